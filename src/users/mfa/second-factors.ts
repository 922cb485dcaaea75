import type { Logger } from 'pino';
import QRCode from 'qrcode';
import { sha256Base64url } from '../../digest.ts';
import type { Locale } from '../../i18n/translate.ts';
import type { OneTimeTokenStore, UserRecord, UserRepository } from '../../storage/ports.ts';
import type { AccountNotices } from '../account-notices.ts';
import type { LoginThrottle } from '../login-throttle.ts';
import { CODE_FAILURE_LIMIT, CODE_FAILURE_WARNING, type CodeFailures } from './code-failures.ts';
import type { RecoveryCodes } from './recovery-codes.ts';
import type { Totp } from './totp.ts';

/** A set-up's secret stays the same for this long, so reloading the page does not invalidate a scanned code. */
const SETUP_TTL = 15 * 60;
/** Longer than any concurrent redemption of one recovery code can take; the code is gone from the user by then. */
const RECOVERY_CLAIM_TTL = 24 * 3600;

export interface FactorStatus {
  totp: boolean;
  /** The app no longer signs in after too many wrong codes in a row (see code-failures.ts). */
  totpBlocked: boolean;
  recoveryCodes: number;
  passkeys: number;
}

/** Whether `status` holds a second factor (a blocked app is still one: it is owed, and the others stand in). */
export function hasSecondFactor(status: FactorStatus): boolean {
  return status.totp || status.recoveryCodes > 0 || status.passkeys > 0;
}

export type CodeMethod = 'totp' | 'recovery';

export type CodeResult =
  | { ok: true; method: 'totp' }
  | { ok: true; method: 'recovery'; remaining: number }
  /** Wrong, unknown, or (for a TOTP code) a time step already used; `inARow`: wrong codes in a row, this one included. */
  | { ok: false; reason: 'invalid' | 'replayed'; inARow: number }
  /** The app is blocked after CODE_FAILURE_LIMIT wrong codes in a row: the code was not checked. */
  | { ok: false; reason: 'blocked' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export interface TotpSetup {
  secret: string;
  /** The otpauth:// URI as a QR code (an SVG data: URL, so no script draws it). */
  qrCode: string;
}

export interface SecondFactors {
  /** False only without a key to seal secrets with (development on MongoDB without IDP_CLIENT_SECRET_KEYS). */
  readonly available: boolean;
  status(user: UserRecord): Promise<FactorStatus>;
  /**
   * The secret being set up by the user in `ceremony` (an interaction's uid, or the account page's
   * session): the same one until confirmed or SETUP_TTL passes, and never another ceremony's.
   */
  beginTotpSetup(user: UserRecord, ceremony: string): Promise<TotpSetup>;
  /** Turns the app on when `code` is right for the secret this ceremony is setting up; returns fresh recovery codes. */
  confirmTotpSetup(user: UserRecord, ceremony: string, code: string): Promise<{ ok: true; recoveryCodes: string[] } | { ok: false }>;
  /**
   * The second step: counted first (per account and per address by the throttle, and in the account's
   * run of wrong codes, each atomically, before any check), then a TOTP code or a recovery code
   * checked. A right code gives the attempts back and ends the run; the owner is emailed at the
   * CODE_FAILURE_WARNING-th wrong code in a row, and again when the app gets blocked.
   */
  verify(user: UserRecord, method: CodeMethod, code: string, request: { ip: string; locale?: Locale | undefined }): Promise<CodeResult>;
  /** A passkey signed the person in: their run of wrong codes ends (it unblocks the app). */
  passkeyUsed(user: UserRecord): Promise<void>;
  /** Turns the app off and removes the recovery codes. */
  disable(user: UserRecord): Promise<void>;
  regenerateRecoveryCodes(user: UserRecord): Promise<string[]>;
}

export interface SecondFactorsDeps {
  users: UserRepository;
  tokens: OneTimeTokenStore;
  /** Absent without keys: then nothing can be set up. */
  totp: Totp | undefined;
  recoveryCodes: RecoveryCodes | undefined;
  /** The second step's own counters (scope `mfa`), with the password's limits. */
  throttle: LoginThrottle;
  /** Wrong codes in a row per account, never forgotten with time. */
  failures: CodeFailures;
  notices: Pick<AccountNotices, 'codesFailing'>;
  logger: Logger;
}

export function createSecondFactors({
  users,
  tokens,
  totp,
  recoveryCodes,
  throttle,
  failures,
  notices,
  logger,
}: SecondFactorsDeps): SecondFactors {
  /** A pending set-up is the ceremony's own: a secret shown in one sign-in is never offered on another page. */
  const setupKey = (user: UserRecord, ceremony: string) => sha256Base64url(`${user.id}:${ceremony}`);
  const keys = () => {
    if (!totp || !recoveryCodes) throw new Error('second factors need IDP_CLIENT_SECRET_KEYS');
    return { totp, recoveryCodes };
  };
  const issueRecoveryCodes = async (user: UserRecord) => {
    const { codes, hashes } = keys().recoveryCodes.generate(user.id);
    await users.setRecoveryCodes(user.id, hashes);
    return codes;
  };

  const checkTotp = async (user: UserRecord, code: string): Promise<'ok' | 'invalid' | 'replayed'> => {
    const sealed = user.factors.totp?.sealedSecret;
    if (!sealed || !totp) return 'invalid';
    let secret: string;
    try {
      secret = totp.open(sealed);
    } catch (error) {
      logger.error({ event: 'mfa.secret_unreadable', userId: user.id, err: error }, 'TOTP secret cannot be opened');
      return 'invalid';
    }
    const result = await totp.check(user.id, secret, code);
    if (result === 'ok' && totp.needsReseal(sealed)) {
      await users.setTotp(user.id, { sealedSecret: totp.seal(secret), createdAt: user.factors.totp?.createdAt ?? new Date() });
    }
    return result;
  };

  const useRecoveryCode = async (user: UserRecord, code: string): Promise<number | undefined> => {
    if (!recoveryCodes?.looksLike(code)) return undefined;
    const hash = recoveryCodes.candidates(user.id, code).find((candidate) => user.factors.recoveryCodes.includes(candidate));
    if (!hash) return undefined;
    // The claim makes the code single-use even when two requests redeem it at once, on any store.
    if (!(await tokens.claim('recovery-code', `${user.id}:${hash}`, RECOVERY_CLAIM_TTL))) return undefined;
    return users.removeRecoveryCode(user.id, hash);
  };

  return {
    available: totp !== undefined && recoveryCodes !== undefined,
    async status(user) {
      const [passkeys, inARow] = await Promise.all([users.passkeysOf(user.id), failures.current(user.id)]);
      const totpOn = user.factors.totp !== undefined;
      return {
        totp: totpOn,
        totpBlocked: totpOn && inARow >= CODE_FAILURE_LIMIT,
        recoveryCodes: user.factors.recoveryCodes.length,
        passkeys: passkeys.length,
      };
    },
    async beginTotpSetup(user, ceremony) {
      const { totp: app } = keys();
      const key = setupKey(user, ceremony);
      const pending = await tokens.find('totp-setup', key);
      let secret = pending?.sealed ? app.open(pending.sealed) : undefined;
      if (!secret) {
        secret = app.newSecret();
        await tokens.save('totp-setup', key, { sealed: app.seal(secret) }, SETUP_TTL);
      }
      const svg = await QRCode.toString(app.uri(user.username, secret), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { secret, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
    },
    async confirmTotpSetup(user, ceremony, code) {
      const { totp: app } = keys();
      const key = setupKey(user, ceremony);
      const pending = await tokens.find('totp-setup', key);
      if (!pending?.sealed) return { ok: false };
      const secret = app.open(pending.sealed);
      if ((await app.check(user.id, secret, code)) !== 'ok') return { ok: false };
      await tokens.consume('totp-setup', key);
      await users.setTotp(user.id, { sealedSecret: app.seal(secret), createdAt: new Date() });
      // A new app starts with a clean slate: wrong codes typed for an old one do not block it.
      await failures.clear(user.id);
      logger.info({ event: 'mfa.totp_enabled', userId: user.id }, 'authenticator app turned on');
      return { ok: true, recoveryCodes: await issueRecoveryCodes(user) };
    },
    async verify(user, method, code, { ip, locale }) {
      const byAddress = await throttle.reserveAddress(ip);
      if (!byAddress.ok) return { ok: false, reason: 'throttled', retryAfterSeconds: byAddress.retryAfterSeconds };
      const subject = `user:${user.id}`;
      const byAccount = await throttle.reserveAccount(subject);
      if (!byAccount.ok) return { ok: false, reason: 'throttled', retryAfterSeconds: byAccount.retryAfterSeconds };
      // Counted before the check, like the throttle: a burst cannot slip past the limit.
      const inARow = await failures.count(user.id);
      if (method === 'totp' && inARow > CODE_FAILURE_LIMIT) return { ok: false, reason: 'blocked' };
      const checked = method === 'totp' ? await checkTotp(user, code) : await useRecoveryCode(user, code);
      if (checked === 'invalid' || checked === 'replayed' || checked === undefined) {
        // Every second step follows the right password (given now, or by the session stepping up).
        if (inARow === CODE_FAILURE_WARNING || (inARow === CODE_FAILURE_LIMIT && user.factors.totp)) {
          notices.codesFailing(user, { count: inARow, blocked: inARow === CODE_FAILURE_LIMIT, locale });
        }
        if (inARow === CODE_FAILURE_LIMIT) logger.warn({ event: 'mfa.totp_blocked', userId: user.id }, 'authenticator app blocked');
        return { ok: false, reason: checked ?? 'invalid', inARow };
      }
      await Promise.all([throttle.succeeded(subject, ip), failures.clear(user.id)]);
      if (checked === 'ok') return { ok: true, method: 'totp' };
      logger.info({ event: 'mfa.recovery_code_used', userId: user.id, remaining: checked }, 'recovery code used');
      return { ok: true, method: 'recovery', remaining: checked };
    },
    passkeyUsed: (user) => failures.clear(user.id),
    async disable(user) {
      await users.setTotp(user.id, undefined);
      await users.setRecoveryCodes(user.id, []);
      await failures.clear(user.id);
      logger.info({ event: 'mfa.totp_disabled', userId: user.id }, 'authenticator app turned off');
    },
    async regenerateRecoveryCodes(user) {
      const codes = await issueRecoveryCodes(user);
      logger.info({ event: 'mfa.recovery_codes_regenerated', userId: user.id }, 'recovery codes regenerated');
      return codes;
    },
  };
}

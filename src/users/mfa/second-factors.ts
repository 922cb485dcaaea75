import type { Logger } from 'pino';
import QRCode from 'qrcode';
import type { OneTimeTokenStore, UserRecord, UserRepository } from '../../storage/ports.ts';
import type { LoginThrottle } from '../login-throttle.ts';
import type { RecoveryCodes } from './recovery-codes.ts';
import type { Totp } from './totp.ts';

/** A set-up's secret stays the same for this long, so reloading the page does not invalidate a scanned code. */
const SETUP_TTL = 15 * 60;
/** Longer than any concurrent redemption of one recovery code can take; the code is gone from the user by then. */
const RECOVERY_CLAIM_TTL = 24 * 3600;

export interface FactorStatus {
  totp: boolean;
  recoveryCodes: number;
  passkeys: number;
}

export type CodeMethod = 'totp' | 'recovery';

export type CodeResult =
  | { ok: true; method: 'totp' }
  | { ok: true; method: 'recovery'; remaining: number }
  /** Wrong, unknown, or (for a TOTP code) a time step already used. */
  | { ok: false; reason: 'invalid' | 'replayed' }
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
  /** The secret being set up for the user (the same one until confirmed or SETUP_TTL passes). */
  beginTotpSetup(user: UserRecord): Promise<TotpSetup>;
  /** Turns the app on when `code` is right for the secret being set up; returns fresh recovery codes. */
  confirmTotpSetup(user: UserRecord, code: string): Promise<{ ok: true; recoveryCodes: string[] } | { ok: false }>;
  /**
   * The second step: counted first (per account and per address, atomically, before any check), then
   * a TOTP code or a recovery code checked. A right code gives the attempts back.
   */
  verify(user: UserRecord, method: CodeMethod, code: string, ip: string): Promise<CodeResult>;
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
  logger: Logger;
}

export function createSecondFactors({ users, tokens, totp, recoveryCodes, throttle, logger }: SecondFactorsDeps): SecondFactors {
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
      const passkeys = await users.passkeysOf(user.id);
      return { totp: user.factors.totp !== undefined, recoveryCodes: user.factors.recoveryCodes.length, passkeys: passkeys.length };
    },
    async beginTotpSetup(user) {
      const { totp: app } = keys();
      const pending = await tokens.find('totp-setup', user.id);
      let secret = pending?.sealed ? app.open(pending.sealed) : undefined;
      if (!secret) {
        secret = app.newSecret();
        await tokens.save('totp-setup', user.id, { sealed: app.seal(secret) }, SETUP_TTL);
      }
      const svg = await QRCode.toString(app.uri(user.username, secret), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { secret, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
    },
    async confirmTotpSetup(user, code) {
      const { totp: app } = keys();
      const pending = await tokens.find('totp-setup', user.id);
      if (!pending?.sealed) return { ok: false };
      const secret = app.open(pending.sealed);
      if ((await app.check(user.id, secret, code)) !== 'ok') return { ok: false };
      await tokens.consume('totp-setup', user.id);
      await users.setTotp(user.id, { sealedSecret: app.seal(secret), createdAt: new Date() });
      logger.info({ event: 'mfa.totp_enabled', userId: user.id }, 'authenticator app turned on');
      return { ok: true, recoveryCodes: await issueRecoveryCodes(user) };
    },
    async verify(user, method, code, ip) {
      const byAddress = await throttle.reserveAddress(ip);
      if (!byAddress.ok) return { ok: false, reason: 'throttled', retryAfterSeconds: byAddress.retryAfterSeconds };
      const subject = `user:${user.id}`;
      const byAccount = await throttle.reserveAccount(subject);
      if (!byAccount.ok) return { ok: false, reason: 'throttled', retryAfterSeconds: byAccount.retryAfterSeconds };
      if (method === 'totp') {
        const result = await checkTotp(user, code);
        if (result !== 'ok') return { ok: false, reason: result };
        await throttle.succeeded(subject, ip);
        return { ok: true, method };
      }
      const remaining = await useRecoveryCode(user, code);
      if (remaining === undefined) return { ok: false, reason: 'invalid' };
      await throttle.succeeded(subject, ip);
      logger.info({ event: 'mfa.recovery_code_used', userId: user.id, remaining }, 'recovery code used');
      return { ok: true, method, remaining };
    },
    async disable(user) {
      await users.setTotp(user.id, undefined);
      await users.setRecoveryCodes(user.id, []);
      logger.info({ event: 'mfa.totp_disabled', userId: user.id }, 'authenticator app turned off');
    },
    async regenerateRecoveryCodes(user) {
      const codes = await issueRecoveryCodes(user);
      logger.info({ event: 'mfa.recovery_codes_regenerated', userId: user.id }, 'recovery codes regenerated');
      return codes;
    },
  };
}

import { Secret, TOTP } from 'otpauth';
import type { SecretBox } from '../../clients/secret-box.ts';
import type { OneTimeTokenStore } from '../../storage/ports.ts';

/** RFC 6238 as every authenticator app expects it: HMAC-SHA-1, 6 digits, 30-second steps. */
const PERIOD = 30;
const DIGITS = 6;
/** One step either side, for clocks a little off (RFC 6238 §5.2 recommends at most one). */
const WINDOW = 1;
/** A step's code is valid from one step before it to one step after: remember a used step that long, and a little more. */
const USED_STEP_TTL = PERIOD * (2 * WINDOW + 1) + PERIOD;

export type TotpCheck = 'ok' | 'invalid' | 'replayed';

export interface Totp {
  /** A new secret: 160 random bits (RFC 4226 §4), as base32 text. */
  newSecret(): string;
  /** The otpauth:// URI an app scans (Key Uri Format): the product as issuer, the account as label. */
  uri(account: string, secret: string): string;
  seal(secret: string): string;
  open(sealed: string): string;
  /** Whether `sealed` should be sealed again with the newest key (after a key rotation). */
  needsReseal(sealed: string): boolean;
  /**
   * Checks a code for the user's secret (base32). A code is accepted once: the time step it belongs
   * to is claimed for the user in the shared store, so a replay, even one sent at the same moment on
   * another instance, is refused (RFC 6238 §5.2). Comparison is constant-time (otpauth).
   */
  check(userId: string, secret: string, code: string): Promise<TotpCheck>;
}

export function createTotp({
  box,
  tokens,
  issuer,
  now = Date.now,
}: {
  box: SecretBox;
  tokens: Pick<OneTimeTokenStore, 'claim'>;
  /** Shown in the app above the account (the product name). */
  issuer: string;
  now?: () => number;
}): Totp {
  const totpOf = (secret: string, label = '') =>
    new TOTP({ issuer, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secret) });
  return {
    newSecret: () => new Secret({ size: 20 }).base32,
    uri: (account, secret) => totpOf(secret, account).toString(),
    seal: (secret) => box.seal(secret),
    open: (sealed) => box.open(sealed),
    needsReseal: (sealed) => !box.isCurrent(sealed),
    async check(userId, secret, code) {
      const token = code.replace(/\s+/g, '');
      if (!/^\d{6}$/.test(token)) return 'invalid';
      const timestamp = now();
      const delta = totpOf(secret).validate({ token, timestamp, window: WINDOW });
      if (delta === null) return 'invalid';
      const step = TOTP.counter({ period: PERIOD, timestamp }) + delta;
      return (await tokens.claim('totp-step', `${userId}:${step}`, USED_STEP_TTL)) ? 'ok' : 'replayed';
    },
  };
}

import { createHmac, randomInt } from 'node:crypto';

/** Ten codes (ASVS 5.0 6.5.x; what GitHub, Google and Keycloak hand out). */
export const RECOVERY_CODE_COUNT = 10;
/** Lower-case letters and digits without look-alikes (i, l, o, 0, 1): 31 symbols. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** 12 symbols, about 59 bits each, written as xxxx-xxxx-xxxx. */
const LENGTH = 12;

export interface RecoveryCodes {
  /** Fresh codes to show once, and the keyed hashes to store. */
  generate(userId: string): { codes: string[]; hashes: string[] };
  /** The hash `code` would be stored under, with each configured key (newest first), for a lookup. */
  candidates(userId: string, code: string): string[];
  /** Whether `text` could be a recovery code at all (so a typo costs no lookup). */
  looksLike(text: string): boolean;
}

/** Case, spaces and hyphens do not matter when a code is typed back. */
function normalize(code: string): string {
  return code.toLowerCase().replace(/[\s-]+/g, '');
}

/**
 * Single-use recovery codes, stored only as HMAC-SHA-256 under keys that live outside the database
 * (see factor-keys.ts), bound to the user so a hash cannot be moved to another account. About 59 bits
 * each: too many to guess online through the second step's throttle, and without the key no offline
 * guessing is possible from a copy of the database.
 */
export function createRecoveryCodes(keys: readonly Buffer[]): RecoveryCodes {
  const mac = (key: Buffer, userId: string, code: string) => createHmac('sha256', key).update(`${userId}:${code}`).digest('base64url');
  return {
    generate(userId) {
      const [key] = keys;
      if (!key) throw new Error('no key to hash recovery codes with (IDP_CLIENT_SECRET_KEYS)');
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
        const symbols = Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
        return `${symbols.slice(0, 4)}-${symbols.slice(4, 8)}-${symbols.slice(8)}`;
      });
      return { codes, hashes: codes.map((code) => mac(key, userId, normalize(code))) };
    },
    candidates: (userId, code) => keys.map((key) => mac(key, userId, normalize(code))),
    looksLike(text) {
      const code = normalize(text);
      return code.length === LENGTH && [...code].every((symbol) => ALPHABET.includes(symbol));
    },
  };
}

import { sha256Base64url } from '../../digest.ts';
import type { AttemptCounter } from '../../storage/ports.ts';

/**
 * Past this many second-step codes wrong in a row, the authenticator app no longer signs the account
 * in (NIST SP 800-63B-4 §3.2.2: at most 100 consecutive failed attempts on one authenticator, then it
 * is disabled), until a recovery code or a passkey works or an administrator runs reset-mfa.
 */
export const CODE_FAILURE_LIMIT = 100;
/** At this many wrong codes in a row (each after the right password) the owner is emailed: the password is likely known. */
export const CODE_FAILURE_WARNING = 5;
/**
 * The count is never forgotten with time the way the throttle's delays are (those reset after 12 h);
 * the store keeps it this long after the latest wrong code, which only a year of silence outlasts.
 */
const KEPT_SECONDS = 365 * 24 * 3600;

export interface CodeFailures {
  /**
   * Counts one more code for the account before it is checked (reserve, then act: of requests sent
   * at once, each gets its own number); returns the count after it. A code that works clears it.
   */
  count(userId: string): Promise<number>;
  /** How many codes in a row have been counted and not cleared. */
  current(userId: string): Promise<number>;
  /** A second step succeeded (a code, a recovery code, a passkey) or the factors were reset. */
  clear(userId: string): Promise<void>;
}

/** Consecutive second-step codes per account, counted atomically in the shared store (Redis in production). */
export function createCodeFailures(attempts: AttemptCounter): CodeFailures {
  const key = (userId: string) => `mfa-streak:${sha256Base64url(userId)}`;
  return {
    count: async (userId) => (await attempts.recordFailure(key(userId), KEPT_SECONDS, 'sliding')).count,
    current: async (userId) => (await attempts.get(key(userId)))?.count ?? 0,
    clear: (userId) => attempts.reset(key(userId)),
  };
}

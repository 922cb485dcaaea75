import type { Config } from '../config/schema.ts';
import { sha256Base64url as digest } from '../digest.ts';
import { createRateLimit, type RateVerdict } from '../rate-limit.ts';
import type { AttemptCounter } from '../storage/ports.ts';
import { loginKey } from './normalize.ts';

export type ThrottleVerdict = RateVerdict;

export interface LoginThrottle {
  /** Counts an attempt from this address before anything is checked; refused past the address's limit. */
  reserveAddress(ip: string): Promise<ThrottleVerdict>;
  /** Counts an attempt on `subject` (see throttleSubject) before its password is checked; refused while its delay runs. */
  reserveAccount(subject: string): Promise<ThrottleVerdict>;
  /** The password was right: the account's failures are forgotten, and the address gets its attempt back. */
  succeeded(subject: string, ip: string): Promise<void>;
}

/**
 * What the per-account counter is keyed by: a known account's own id, whatever identifier was typed
 * (its username or its email: one account, one counter), and for an unknown identifier its
 * normalized form, so that guessing at it is counted too and the answers reveal nothing.
 */
export function throttleSubject(userId: string | undefined, login: string): string {
  return userId ? `user:${userId}` : `login:${loginKey(login)}`;
}

/**
 * Brute-force defence, counted in the shared store so every instance sees the same numbers, and
 * reserved before the work it guards (reserve, verify, settle): requests sent at once cannot outrun
 * it, on one instance or many (ASVS 5.0 6.3.1, 2.4.1).
 * - Per account: after `freeFailures`, each attempt waits for a delay that doubles from
 *   `baseDelaySeconds` up to `maxDelaySeconds` after the previous one; failures are forgotten
 *   `resetSeconds` after the last one or at a successful sign-in. Never a permanent lockout (NIST SP
 *   800-63B-4 §3.2.2; Keycloak's brute-force detection). An attempt refused here is not counted, so
 *   an attacker cannot push the delay ever longer.
 * - Per IP address: at most `maxFailures` attempts that fail in a fixed `windowSeconds`, against
 *   password spraying across many accounts; a successful sign-in gives its attempt back.
 */
export function createLoginThrottle(
  counter: AttemptCounter,
  policy: Config['bruteForce'],
  now: () => number = Date.now,
  /** Whose counters: the password's (`login`), or another step's with counters of its own (`mfa`). */
  scope: 'login' | 'mfa' = 'login',
): LoginThrottle {
  const accountKey = (subject: string) => `${scope}:${digest(subject)}`;
  const addressLimit = { max: policy.ip.maxFailures, windowSeconds: policy.ip.windowSeconds };
  const byAddress = createRateLimit(counter, scope === 'login' ? 'ip' : `${scope}-ip`, addressLimit, now);
  const backoff = {
    free: policy.account.freeFailures,
    baseDelaySeconds: policy.account.baseDelaySeconds,
    maxDelaySeconds: policy.account.maxDelaySeconds,
    resetSeconds: policy.account.resetSeconds,
  };

  return {
    reserveAddress: (ip) => byAddress.take(ip),
    async reserveAccount(subject) {
      const reservation = await counter.reserve(accountKey(subject), backoff);
      return reservation.granted ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(reservation.retryAfterMs / 1000)) };
    },
    async succeeded(subject, ip) {
      await Promise.all([counter.reset(accountKey(subject)), byAddress.giveBack(ip)]);
    },
  };
}

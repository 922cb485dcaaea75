import { sha256Base64url as digest } from '../digest.ts';
import type { Config } from '../config/schema.ts';
import type { AttemptCounter, AttemptRecord } from '../storage/ports.ts';

export type ThrottleVerdict =
  | { blocked: false }
  /** Too many failures from this IP address: the person is told to wait. */
  | { blocked: 'ip'; retryAfterSeconds: number }
  /** Too many failures for this login: answered exactly like a wrong password. */
  | { blocked: 'account'; retryAfterSeconds: number };

export interface LoginThrottle {
  check(login: string, ip: string): Promise<ThrottleVerdict>;
  /** A failed attempt; `account: false` counts it against the IP address only (the login is already locked). */
  recordFailure(login: string, ip: string, options?: { account: boolean }): Promise<void>;
  recordSuccess(login: string): Promise<void>;
}

/**
 * Brute-force defence, counted in the shared store so every instance sees the same numbers.
 * - Per login (the normalized identifier typed, known account or not, so it reveals nothing):
 *   after `freeFailures`, each failure locks the login for a delay that doubles from
 *   `baseDelaySeconds` up to `maxDelaySeconds`; failures are forgotten `resetSeconds` after the last
 *   one or at a successful sign-in. Never a permanent lockout (NIST SP 800-63B-4 §3.2.2; ASVS 5.0
 *   6.1.1, 6.3.1; Keycloak's brute-force detection).
 * - Per IP address: at most `maxFailures` failures in a fixed `windowSeconds`, against password
 *   spraying across many accounts.
 */
export function createLoginThrottle(
  counter: AttemptCounter,
  policy: Config['bruteForce'],
  now: () => number = Date.now,
): LoginThrottle {
  const accountKey = (login: string) => `login:${digest(login)}`;
  const ipKey = (ip: string) => `ip:${digest(ip)}`;

  const accountDelay = (record: AttemptRecord) => {
    const over = record.count - policy.account.freeFailures;
    if (over <= 0) return 0;
    return Math.min(policy.account.maxDelaySeconds, policy.account.baseDelaySeconds * 2 ** (over - 1));
  };
  const remaining = (untilMs: number) => Math.max(0, Math.ceil((untilMs - now()) / 1000));

  return {
    async check(login, ip) {
      const [byIp, byAccount] = await Promise.all([counter.get(ipKey(ip)), counter.get(accountKey(login))]);
      if (byIp && byIp.count >= policy.ip.maxFailures) {
        const retryAfterSeconds = remaining(byIp.first + policy.ip.windowSeconds * 1000);
        if (retryAfterSeconds > 0) return { blocked: 'ip', retryAfterSeconds };
      }
      if (byAccount) {
        const retryAfterSeconds = remaining(byAccount.last + accountDelay(byAccount) * 1000);
        if (retryAfterSeconds > 0) return { blocked: 'account', retryAfterSeconds };
      }
      return { blocked: false };
    },
    async recordFailure(login, ip, { account } = { account: true }) {
      await Promise.all([
        account ? counter.recordFailure(accountKey(login), policy.account.resetSeconds, 'sliding') : undefined,
        counter.recordFailure(ipKey(ip), policy.ip.windowSeconds, 'fixed'),
      ]);
    },
    async recordSuccess(login) {
      await counter.reset(accountKey(login));
    },
  };
}

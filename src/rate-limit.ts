import { sha256Base64url as digest } from './digest.ts';
import type { AttemptCounter } from './storage/ports.ts';

/** Whether an action may go on; when not, how long until it may. */
export type RateVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimit {
  /** Counts one action for `subject` first, then compares: the count is atomic, so a burst cannot outrun it. */
  take(subject: string): Promise<RateVerdict>;
  /** Gives back one counted action (it turned out not to count, e.g. a successful sign-in). */
  giveBack(subject: string): Promise<void>;
}

/**
 * At most `max` actions per subject (an IP address, an email address) in a fixed window that starts
 * at the first one. Subjects are stored only as a hash under `name`.
 */
export function createRateLimit(
  counter: AttemptCounter,
  name: string,
  { max, windowSeconds }: { max: number; windowSeconds: number },
  now: () => number = Date.now,
): RateLimit {
  const key = (subject: string) => `${name}:${digest(subject)}`;
  return {
    async take(subject) {
      const record = await counter.recordFailure(key(subject), windowSeconds, 'fixed');
      if (record.count <= max) return { ok: true };
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((record.first + windowSeconds * 1000 - now()) / 1000)) };
    },
    giveBack: (subject) => counter.release(key(subject)),
  };
}

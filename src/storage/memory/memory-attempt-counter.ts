import { type AttemptCounter, type AttemptRecord, backoffDelayMs } from '../ports.ts';

/**
 * In-process attempt counters for the embedded mode; same semantics as the Redis ones. Each
 * operation runs in one synchronous step, so concurrent requests cannot interleave inside it.
 */
export function createMemoryAttemptCounter(now: () => number = Date.now): AttemptCounter {
  const records = new Map<string, { record: AttemptRecord; expiresAt: number }>();
  const live = (key: string) => {
    const entry = records.get(key);
    if (entry && entry.expiresAt <= now()) {
      records.delete(key);
      return undefined;
    }
    return entry;
  };
  const count = (key: string, ttlSeconds: number, expiry: 'sliding' | 'fixed') => {
    const at = now();
    const entry = live(key);
    const record = entry ? { ...entry.record, count: entry.record.count + 1, last: at } : { count: 1, first: at, last: at };
    const expiresAt = expiry === 'fixed' && entry ? entry.expiresAt : at + ttlSeconds * 1000;
    records.set(key, { record, expiresAt });
    if (records.size > 100_000) for (const stale of records.keys()) live(stale);
    return { ...record };
  };
  return {
    async get(key) {
      const entry = live(key);
      return entry ? { ...entry.record } : undefined;
    },
    async recordFailure(key, ttlSeconds, expiry) {
      return count(key, ttlSeconds, expiry);
    },
    async reserve(key, backoff) {
      const entry = live(key);
      if (entry) {
        const waitUntil = entry.record.last + backoffDelayMs(backoff, entry.record.count);
        if (now() < waitUntil) return { granted: false, retryAfterMs: waitUntil - now() };
      }
      count(key, backoff.resetSeconds, 'sliding');
      return { granted: true };
    },
    async release(key) {
      const entry = live(key);
      if (!entry) return;
      if (entry.record.count <= 1) records.delete(key);
      else entry.record = { ...entry.record, count: entry.record.count - 1 };
    },
    async reset(key) {
      records.delete(key);
    },
  };
}

import type { AttemptCounter, AttemptRecord } from '../ports.ts';

/** In-process failure counters for the embedded mode; same semantics as the Redis ones. */
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
  return {
    async get(key) {
      const entry = live(key);
      return entry ? { ...entry.record } : undefined;
    },
    async recordFailure(key, ttlSeconds, expiry) {
      const at = now();
      const entry = live(key);
      const record = entry ? { ...entry.record, count: entry.record.count + 1, last: at } : { count: 1, first: at, last: at };
      const expiresAt = expiry === 'fixed' && entry ? entry.expiresAt : at + ttlSeconds * 1000;
      records.set(key, { record, expiresAt });
      if (records.size > 100_000) for (const stale of records.keys()) live(stale);
      return { ...record };
    },
    async reset(key) {
      records.delete(key);
    },
  };
}

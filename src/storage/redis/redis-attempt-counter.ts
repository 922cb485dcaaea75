import type { Redis } from 'ioredis';
import type { AttemptCounter, AttemptRecord } from '../ports.ts';

/**
 * Failure counters in Redis, shared by every instance: a HASH { count, first, last } per key,
 * updated and read back in one MULTI (one round trip), expiring with the counting window.
 */
export function createRedisAttemptCounter(redis: Redis, prefix: string): AttemptCounter {
  const redisKey = (key: string) => `${prefix}attempts:${key}`;
  const toRecord = ([count, first, last]: Array<string | null>): AttemptRecord | undefined =>
    count && first && last ? { count: Number(count), first: Number(first), last: Number(last) } : undefined;

  return {
    async get(key) {
      return toRecord(await redis.hmget(redisKey(key), 'count', 'first', 'last'));
    },
    async recordFailure(key, ttlSeconds, expiry) {
      const target = redisKey(key);
      const at = String(Date.now());
      const multi = redis.multi().hincrby(target, 'count', 1).hsetnx(target, 'first', at).hset(target, 'last', at);
      if (expiry === 'sliding') multi.expire(target, ttlSeconds);
      else multi.expire(target, ttlSeconds, 'NX');
      multi.hmget(target, 'count', 'first', 'last');
      const results = await multi.exec();
      const failed = results?.find(([error]) => error);
      if (failed?.[0]) throw failed[0];
      const record = toRecord((results?.at(-1)?.[1] as Array<string | null> | undefined) ?? []);
      if (!record) throw new Error('attempt counter lost its record');
      return record;
    },
    async reset(key) {
      await redis.del(redisKey(key));
    },
  };
}

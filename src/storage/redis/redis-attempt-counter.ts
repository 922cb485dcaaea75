import type { AttemptCounter, AttemptRecord } from '../ports.ts';
import type { RedisClient } from './connect-redis.ts';

/*
 * Counts one attempt only if the backoff allows it now (see AttemptCounter.reserve), in one atomic
 * script. KEYS[1]: the HASH; ARGV: now (ms), free, base delay (s), max delay (s), reset (s).
 * Returns -1 when counted, else the ms to wait.
 */
const RESERVE_SCRIPT = `
local now, free, base, max, reset = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
local over = count - free
if over > 0 then
  local waitUntil = tonumber(redis.call('HGET', KEYS[1], 'last') or '0') + math.min(max, base * 2 ^ (over - 1)) * 1000
  if now < waitUntil then return waitUntil - now end
end
redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSETNX', KEYS[1], 'first', ARGV[1])
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], reset)
return -1
`;

/* Takes back one counted attempt; the key goes when nothing is left. */
const RELEASE_SCRIPT = `
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
if count <= 1 then return redis.call('DEL', KEYS[1]) end
return redis.call('HINCRBY', KEYS[1], 'count', -1)
`;

type ScriptedRedis = RedisClient & {
  idpReserveAttempt(key: string, ...args: string[]): Promise<number>;
  idpReleaseAttempt(key: string): Promise<number>;
};

/**
 * Attempt counters in Redis, shared by every instance: a HASH { count, first, last } per key,
 * changed and read back in one round trip (a MULTI or a script), expiring with the counting window.
 * Each operation touches that one key, so it runs unchanged on a Redis Cluster.
 */
export function createRedisAttemptCounter(redis: RedisClient, prefix: string): AttemptCounter {
  const client = redis as ScriptedRedis;
  if (typeof client.idpReserveAttempt !== 'function') {
    redis.defineCommand('idpReserveAttempt', { numberOfKeys: 1, lua: RESERVE_SCRIPT });
    redis.defineCommand('idpReleaseAttempt', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  }
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
    async reserve(key, { free, baseDelaySeconds, maxDelaySeconds, resetSeconds }) {
      const waitMs = await client.idpReserveAttempt(
        redisKey(key),
        String(Date.now()),
        String(free),
        String(baseDelaySeconds),
        String(maxDelaySeconds),
        String(resetSeconds),
      );
      return waitMs < 0 ? { granted: true } : { granted: false, retryAfterMs: waitMs };
    },
    async release(key) {
      await client.idpReleaseAttempt(redisKey(key));
    },
    async reset(key) {
      await redis.del(redisKey(key));
    },
  };
}

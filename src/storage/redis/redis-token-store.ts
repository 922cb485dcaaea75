import type { OneTimeTokenStore } from '../ports.ts';
import type { RedisClient } from './connect-redis.ts';

/** Single-use tokens in Redis: SET with EX, redeemed with GETDEL so two clicks cannot both succeed. */
export function createRedisTokenStore(redis: RedisClient, prefix: string): OneTimeTokenStore {
  const key = (purpose: string, tokenHash: string) => `${prefix}token:${purpose}:${tokenHash}`;
  return {
    async save(purpose, tokenHash, payload, ttlSeconds) {
      await redis.set(key(purpose, tokenHash), JSON.stringify(payload), 'EX', ttlSeconds);
    },
    async find(purpose, tokenHash) {
      const raw = await redis.get(key(purpose, tokenHash));
      return raw ? (JSON.parse(raw) as Record<string, string>) : undefined;
    },
    async consume(purpose, tokenHash) {
      const raw = await redis.getdel(key(purpose, tokenHash));
      return raw ? (JSON.parse(raw) as Record<string, string>) : undefined;
    },
  };
}

import type { OneTimeTokenStore } from '../ports.ts';
import type { RedisClient } from './connect-redis.ts';

/**
 * Single-use tokens in Redis: SET with EX, redeemed with GETDEL so two clicks cannot both succeed;
 * claims are SET NX EX, so of two requests at once only one gets the mark. Each touches one key, so
 * it runs unchanged on a Redis Cluster.
 */
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
    async claim(purpose, claimed, ttlSeconds) {
      return (await redis.set(`${prefix}claim:${purpose}:${claimed}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
    },
  };
}

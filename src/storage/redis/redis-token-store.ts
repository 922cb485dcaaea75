import type { OneTimeTokenStore } from '../ports.ts';
import type { RedisClient } from './connect-redis.ts';

/*
 * Stores ARGV[1] under KEYS[1] (for ARGV[2] seconds) only when it is higher than the number stored
 * there, in one atomic script. Returns 1 when stored, 0 when not.
 */
const RAISE_SCRIPT = `
local stored = tonumber(redis.call('GET', KEYS[1]) or '')
local value = tonumber(ARGV[1])
if stored ~= nil and value <= stored then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return 1
`;

type ScriptedRedis = RedisClient & {
  idpRaise(key: string, value: string, ttlSeconds: string): Promise<number>;
};

/**
 * Single-use tokens in Redis: SET with EX, redeemed with GETDEL so two clicks cannot both succeed;
 * claims are SET NX EX, so of two requests at once only one gets the mark; a raise is one script. Each
 * touches one key, so it runs unchanged on a Redis Cluster.
 */
export function createRedisTokenStore(redis: RedisClient, prefix: string): OneTimeTokenStore {
  const client = redis as ScriptedRedis;
  if (typeof client.idpRaise !== 'function') redis.defineCommand('idpRaise', { numberOfKeys: 1, lua: RAISE_SCRIPT });
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
    async raise(purpose, raised, value, ttlSeconds) {
      return (await client.idpRaise(`${prefix}high:${purpose}:${raised}`, String(value), String(ttlSeconds))) === 1;
    },
  };
}

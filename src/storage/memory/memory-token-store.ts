import type { OneTimeTokenStore } from '../ports.ts';

/** In-process single-use tokens for the embedded mode; same semantics as the Redis store. */
export function createMemoryTokenStore(now: () => number = Date.now): OneTimeTokenStore {
  const tokens = new Map<string, { payload: Record<string, string>; expiresAt: number }>();
  const claims = new Map<string, number>();
  return {
    async save(purpose, tokenHash, payload, ttlSeconds) {
      for (const [key, entry] of tokens) if (entry.expiresAt <= now()) tokens.delete(key);
      tokens.set(`${purpose}:${tokenHash}`, { payload: { ...payload }, expiresAt: now() + ttlSeconds * 1000 });
    },
    async find(purpose, tokenHash) {
      const entry = tokens.get(`${purpose}:${tokenHash}`);
      return entry && entry.expiresAt > now() ? { ...entry.payload } : undefined;
    },
    async consume(purpose, tokenHash) {
      const key = `${purpose}:${tokenHash}`;
      const entry = tokens.get(key);
      tokens.delete(key);
      return entry && entry.expiresAt > now() ? { ...entry.payload } : undefined;
    },
    async claim(purpose, claimed, ttlSeconds) {
      const at = now();
      for (const [key, expiresAt] of claims) if (expiresAt <= at) claims.delete(key);
      const key = `${purpose}:${claimed}`;
      if (claims.has(key)) return false;
      claims.set(key, at + ttlSeconds * 1000);
      return true;
    },
  };
}

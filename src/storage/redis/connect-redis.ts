import { Redis } from 'ioredis';
import { redactUrl } from '../redact-url.ts';

/**
 * Opens a Redis connection and waits until it answers. Rejects with one readable line instead of
 * letting ioredis retry forever, so a wrong REDIS_URL stops the start-up.
 */
export async function connectRedis(url: string, { timeoutMs = 5000 } = {}): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // After start-up, connection errors are retried by ioredis and reported by readiness; without a
  // listener they would be printed as unhandled 'error' events.
  redis.on('error', () => {});
  try {
    await withTimeout(redis.connect(), timeoutMs);
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new Error(`cannot connect to Redis at ${redactUrl(url)} (${describe(error)})`, { cause: error });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

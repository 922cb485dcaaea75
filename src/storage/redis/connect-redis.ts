import { Redis } from 'ioredis';
import { redactUrl } from '../redact-url.ts';
import { withTimeout } from '../with-timeout.ts';

/**
 * Opens a Redis connection and waits until it answers. Rejects with one readable line instead of
 * letting ioredis retry forever, so a wrong REDIS_URL stops the start-up.
 */
export async function connectRedis(url: string, { timeoutMs = 5000 } = {}): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: timeoutMs,
    // How long a closing socket may linger; a dead one otherwise keeps the process alive for 2 s.
    disconnectTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // After start-up, connection errors are retried by ioredis and reported by readiness; without a
  // listener they would be printed as unhandled 'error' events. The last one explains a failed start.
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await withTimeout(redis.connect(), timeoutMs);
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new Error(`cannot connect to Redis at ${redactUrl(url)} (${describe(lastError ?? error)})`, { cause: error });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Closes politely (QUIT) when Redis answers, and drops the connection when it does not. */
export async function closeRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await withTimeout(redis.quit(), timeoutMs);
  } catch {
    // unreachable or slow: nothing left to flush
  } finally {
    redis.disconnect();
  }
}

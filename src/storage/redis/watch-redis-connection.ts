import type { StoreObserver } from '../observer.ts';
import type { RedisClient } from './connect-redis.ts';

/**
 * Reports a Redis connection lost once, when ioredis starts reconnecting (it emits 'reconnecting'
 * only for a connection it did not close on purpose), and restored once, when it is ready again.
 * ioredis retries on its own; without this an outage is only seen as failed requests.
 */
export function watchRedisConnection(redis: RedisClient, name: string, report: NonNullable<StoreObserver['connection']>): void {
  let lost = false;
  let lastError: string | undefined;
  redis.on('error', (error: Error) => {
    lastError = error.message;
  });
  redis.on('reconnecting', () => {
    if (lost) return;
    lost = true;
    report({ store: 'redis', connection: name, state: 'lost', reason: lastError });
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    lastError = undefined;
    report({ store: 'redis', connection: name, state: 'restored' });
  });
}

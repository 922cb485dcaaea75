import { afterAll } from '@jest/globals';
import { closeRedis, connectRedis } from '../../src/storage/redis/connect-redis.ts';
import { createRedisAttemptCounter } from '../../src/storage/redis/redis-attempt-counter.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { realClock } from '../support/clock.ts';
import { describeAttemptCounterContract } from './attempt-counter.contract.ts';

const scope = isolation('attempts');
afterAll(() => dropIsolation(scope));

describeAttemptCounterContract('redis', realClock, async () => {
  const redis = await connectRedis(scope.redisUrl);
  return { counter: createRedisAttemptCounter(redis, scope.redisKeyPrefix), close: () => closeRedis(redis) };
});

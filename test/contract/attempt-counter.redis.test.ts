import { afterAll } from '@jest/globals';
import { closeRedis, connectRedis } from '../../src/storage/redis/connect-redis.ts';
import { createRedisAttemptCounter } from '../../src/storage/redis/redis-attempt-counter.ts';
import { dropIsolation, isolation, REDIS_KINDS, topologyOf } from '../support/backends.ts';
import { realClock } from '../support/clock.ts';
import { describeAttemptCounterContract } from './attempt-counter.contract.ts';

for (const kind of REDIS_KINDS) {
  const scope = isolation(`attempts-${kind}`, { redis: kind });
  afterAll(() => dropIsolation(scope));

  describeAttemptCounterContract(`redis (${kind})`, realClock, async () => {
    const redis = await connectRedis(topologyOf(scope));
    return { counter: createRedisAttemptCounter(redis, scope.redisKeyPrefix), close: () => closeRedis(redis) };
  });
}

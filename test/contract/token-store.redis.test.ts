import { afterAll } from '@jest/globals';
import { closeRedis, connectRedis } from '../../src/storage/redis/connect-redis.ts';
import { createRedisTokenStore } from '../../src/storage/redis/redis-token-store.ts';
import { dropIsolation, isolation, REDIS_KINDS, topologyOf } from '../support/backends.ts';
import { realClock } from '../support/clock.ts';
import { describeTokenStoreContract } from './token-store.contract.ts';

for (const kind of REDIS_KINDS) {
  const scope = isolation(`tokens-${kind}`, { redis: kind });
  afterAll(() => dropIsolation(scope));

  describeTokenStoreContract(`redis (${kind})`, realClock, async () => {
    const redis = await connectRedis(topologyOf(scope));
    return { tokens: createRedisTokenStore(redis, scope.redisKeyPrefix), close: () => closeRedis(redis) };
  });
}

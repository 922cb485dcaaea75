import { afterAll } from '@jest/globals';
import { closeRedis, connectRedis } from '../../src/storage/redis/connect-redis.ts';
import { createRedisTokenStore } from '../../src/storage/redis/redis-token-store.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { realClock } from '../support/clock.ts';
import { describeTokenStoreContract } from './token-store.contract.ts';

const scope = isolation('tokens');
afterAll(() => dropIsolation(scope));

describeTokenStoreContract('redis', realClock, async () => {
  const redis = await connectRedis(scope.redisUrl);
  return { tokens: createRedisTokenStore(redis, scope.redisKeyPrefix), close: () => closeRedis(redis) };
});

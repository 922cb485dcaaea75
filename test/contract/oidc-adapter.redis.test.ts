import { afterAll } from '@jest/globals';
import { connectRedis } from '../../src/storage/redis/connect-redis.ts';
import { createRedisOidcAdapterFactory } from '../../src/storage/redis/redis-oidc-adapter.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { describeOidcAdapterContract } from './oidc-adapter.contract.ts';

const scope = isolation('oidc-adapter');
afterAll(() => dropIsolation(scope));

describeOidcAdapterContract('redis', async (clockTolerance) => {
  const redis = await connectRedis(scope.redisUrl);
  const factory = createRedisOidcAdapterFactory(redis, { prefix: scope.redisKeyPrefix, clockTolerance });
  return { factory, close: async () => void (await redis.quit()) };
});

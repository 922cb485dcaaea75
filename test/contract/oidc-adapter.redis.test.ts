import { afterAll } from '@jest/globals';
import { connectRedis } from '../../src/storage/redis/connect-redis.ts';
import { createRedisOidcStore } from '../../src/storage/redis/redis-oidc-adapter.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { realClock } from '../support/clock.ts';
import { describeOidcAdapterContract } from './oidc-adapter.contract.ts';

const scope = isolation('oidc-adapter');
afterAll(() => dropIsolation(scope));

describeOidcAdapterContract('redis', realClock, async (clockTolerance) => {
  const redis = await connectRedis(scope.redisUrl);
  const store = createRedisOidcStore(redis, { prefix: scope.redisKeyPrefix, clockTolerance });
  return {
    factory: store.adapter,
    endSessionsOf: store.endSessionsOf,
    grantsOf: store.grantsOf,
    close: async () => void (await redis.quit()),
  };
});

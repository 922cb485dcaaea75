import { afterAll, describe, expect, test } from '@jest/globals';
import { closeRedis, connectRedis } from '../../src/storage/redis/connect-redis.ts';
import { createRedisOidcStore } from '../../src/storage/redis/redis-oidc-adapter.ts';
import { dropIsolation, isolation, REDIS_KINDS, topologyOf } from '../support/backends.ts';
import { realClock } from '../support/clock.ts';
import { sleep } from '../support/eventually.ts';
import { describeOidcAdapterContract } from './oidc-adapter.contract.ts';

// The same suite on one Redis, a Sentinel-managed primary with a replica, and a Redis Cluster of
// three primaries with a replica each (all started by the test setup).
for (const kind of REDIS_KINDS) {
  const scope = isolation(`oidc-adapter-${kind}`, { redis: kind });
  afterAll(() => dropIsolation(scope));

  describeOidcAdapterContract(`redis (${kind})`, realClock, async (clockTolerance) => {
    const redis = await connectRedis(topologyOf(scope));
    const store = createRedisOidcStore(redis, { prefix: scope.redisKeyPrefix, clockTolerance });
    return {
      factory: store.adapter,
      endSessionsOf: store.endSessionsOf,
      grantsOf: store.grantsOf,
      close: () => closeRedis(redis),
    };
  });

  describe(`redis (${kind}): indexes`, () => {
    test("a grant's index drops the keys of expired tokens as new ones come, so it holds what is alive", async () => {
      const redis = await connectRedis(topologyOf(scope));
      try {
        const store = createRedisOidcStore(redis, { prefix: scope.redisKeyPrefix });
        const accessTokens = store.adapter('AccessToken');
        await accessTokens.upsert('expiring', { grantId: 'busy-grant' }, 1);
        await sleep(2100);
        await accessTokens.upsert('fresh', { grantId: 'busy-grant' }, 60);
        expect(await redis.zrange(`${scope.redisKeyPrefix}oidc:grant:{busy-grant}`, 0, -1)).toEqual(['AccessToken:fresh']);
      } finally {
        await closeRedis(redis);
      }
    });
  });

  describe(`redis (${kind}): two instances`, () => {
    test('a destroy removes the indexes of the record as stored, also when another instance changed them since this one read it', async () => {
      const [redisA, redisB] = await Promise.all([connectRedis(topologyOf(scope)), connectRedis(topologyOf(scope))]);
      try {
        const [a, b] = [redisA, redisB].map((redis) => createRedisOidcStore(redis, { prefix: scope.redisKeyPrefix }));
        if (!a || !b) throw new Error('stores missing');
        const [sessionsA, sessionsB] = [a.adapter('Session'), b.adapter('Session')];
        await sessionsA.upsert('shared-session', { uid: 'uid-before', accountId: 'frank' }, 60);
        expect(await sessionsA.find('shared-session')).toBeDefined(); // instance A now knows its indexes
        await sessionsB.upsert('shared-session', { uid: 'uid-after', accountId: 'grace' }, 60);
        await sessionsA.destroy('shared-session');
        // Nothing is left pointing at it: neither what A read nor what B wrote.
        const prefix = scope.redisKeyPrefix;
        for (const uid of ['uid-before', 'uid-after']) expect(await redisA.exists(`${prefix}oidc:sessionUid:{${uid}}`)).toBe(0);
        for (const account of ['frank', 'grace'])
          expect(await redisA.zrange(`${prefix}oidc:account:{${account}}:Session`, 0, -1)).toEqual([]);
      } finally {
        await Promise.all([closeRedis(redisA), closeRedis(redisB)]);
      }
    });
  });
}

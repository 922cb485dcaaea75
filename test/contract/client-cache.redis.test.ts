import { afterAll, describe, expect, test } from '@jest/globals';
import { withClientChanges } from '../../src/storage/cached-client-store.ts';
import { connectMongo } from '../../src/storage/mongo/connect-mongo.ts';
import { createMongoClientStore } from '../../src/storage/mongo/mongo-client-store.ts';
import { closeRedis, connectRedis } from '../../src/storage/redis/connect-redis.ts';
import { createRedisChangeFeed } from '../../src/storage/redis/redis-change-feed.ts';
import { dropIsolation, type Isolation, isolation, killSubscribers, REDIS_KINDS, topologyOf } from '../support/backends.ts';
import { eventually } from '../support/eventually.ts';
import { describeClientCacheContract } from './client-cache.contract.ts';

/** One instance as a process would have it: its own MongoDB and Redis connections. */
async function openInstance(scope: Isolation) {
  const [mongo, redis] = await Promise.all([connectMongo(scope.mongodbUri), connectRedis(topologyOf(scope))]);
  const feed = createRedisChangeFeed(redis, scope.redisKeyPrefix, 'clients');
  return {
    store: createMongoClientStore(mongo),
    feed,
    close: async () => {
      await feed.close();
      await Promise.all([mongo.close(), closeRedis(redis)]);
    },
  };
}

// Pub/sub on one Redis, through a Sentinel-managed primary, and across the nodes of a Cluster.
for (const kind of REDIS_KINDS) {
  const scope = isolation(`client-cache-${kind}`, { redis: kind });
  afterAll(() => dropIsolation(scope));

  describeClientCacheContract(`Redis (${kind}) pub/sub between two instances, clients in MongoDB`, async () => {
    const [server, admin, raw] = await Promise.all([openInstance(scope), openInstance(scope), openInstance(scope)]);
    return {
      server,
      admin,
      raw: raw.store,
      close: async () => {
        await Promise.all([server.close(), admin.close(), raw.close()]);
      },
    };
  });

  describe(`client cache over Redis (${kind})`, () => {
    test('when the subscription drops, nothing is cached until it is back, and what was cached is forgotten', async () => {
      const [server, admin, raw] = await Promise.all([openInstance(scope), openInstance(scope), openInstance(scope)]);
      try {
        const cached = withClientChanges(server.store, server.feed, { ttlMs: 60_000 });
        const writer = withClientChanges(admin.store, admin.feed, { ttlMs: 0 });
        await cached.start();
        await writer.create({ clientId: 'dropped', metadata: {}, sealedSecret: 'v1.before', disabled: false });
        expect((await cached.find('dropped'))?.sealedSecret).toBe('v1.before');

        // Redis drops the subscriber (as a network fault or a Redis restart would). The feed
        // subscribes again within a moment; a read counts only if the feed was still away after it.
        let readWhileAway = false;
        for (let attempt = 0; attempt < 5 && !readWhileAway; attempt += 1) {
          await killSubscribers(scope);
          expect(
            await eventually(
              async () => server.feed.isLive(),
              (live) => !live,
              2000,
            ),
          ).toBe(false);
          // A change made while the subscriber is away is not announced to it; it must still be seen.
          await raw.store.update('dropped', { sealedSecret: `v1.while-away.${attempt}` });
          const seen = await cached.find('dropped');
          readWhileAway = !server.feed.isLive();
          if (readWhileAway) expect(seen?.sealedSecret).toBe(`v1.while-away.${attempt}`);
        }
        expect(readWhileAway).toBe(true);

        expect(
          await eventually(
            async () => server.feed.isLive(),
            (live) => live,
            5000,
          ),
        ).toBe(true);
        await raw.store.update('dropped', { sealedSecret: 'v1.after' });
        expect((await cached.find('dropped'))?.sealedSecret).toBe('v1.after');
        // Once live again, an announced change reaches the cache at once.
        await writer.update('dropped', { sealedSecret: 'v1.announced' });
        expect(
          (
            await eventually(
              () => cached.find('dropped'),
              (client) => client?.sealedSecret === 'v1.announced',
              2000,
            )
          )?.sealedSecret,
        ).toBe('v1.announced');
      } finally {
        await Promise.all([server.close(), admin.close(), raw.close()]);
      }
    });
  });
}

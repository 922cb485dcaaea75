import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { withUserChanges } from '../../src/storage/cached-user-repository.ts';
import { connectMongo } from '../../src/storage/mongo/connect-mongo.ts';
import { createMongoUserRepository } from '../../src/storage/mongo/mongo-user-repository.ts';
import type { UserRecord } from '../../src/storage/ports.ts';
import { closeRedis, connectRedis } from '../../src/storage/redis/connect-redis.ts';
import { createRedisChangeFeed } from '../../src/storage/redis/redis-change-feed.ts';
import { dropIsolation, isolation, REDIS_KINDS, topologyOf } from '../support/backends.ts';
import { eventually } from '../support/eventually.ts';

const TTL_MS = 60_000;

/**
 * The user cache between two instances, each with its own MongoDB and Redis connections as a
 * process would have: every kind of change made on one reaches the other's cache at once, and the
 * TTL is the bound only for a change that was never announced.
 */
// On one Redis, through a Sentinel-managed primary, and across the nodes of a Cluster.
describe.each(REDIS_KINDS)('user cache over Redis (%s) pub/sub, users in MongoDB', (kind) => {
  const scope = isolation(`user-cache-${kind}`, { redis: kind });
  let clock = 0;
  const opened: Array<() => Promise<void>> = [];
  let server: ReturnType<typeof withUserChanges>;
  let writer: ReturnType<typeof withUserChanges>;
  let raw: ReturnType<typeof createMongoUserRepository>;

  const openInstance = async (ttlMs: number, now?: () => number) => {
    const [mongo, redis] = await Promise.all([connectMongo(scope.mongodbUri), connectRedis(topologyOf(scope))]);
    const feed = createRedisChangeFeed(redis, scope.redisKeyPrefix, 'users');
    const repository = createMongoUserRepository(mongo);
    await repository.ensureIndexes();
    const cached = withUserChanges(repository, feed, { ttlMs, ...(now ? { now } : {}) });
    await cached.start();
    opened.push(async () => {
      await feed.close();
      await Promise.all([mongo.close(), closeRedis(redis)]);
    });
    return { cached, repository };
  };

  beforeAll(async () => {
    server = (await openInstance(TTL_MS, () => clock)).cached;
    const admin = await openInstance(0);
    writer = admin.cached;
    raw = admin.repository;
  });
  afterAll(async () => {
    await Promise.all(opened.map((close) => close()));
    await dropIsolation(scope);
  });

  let counter = 0;
  const newUser = async (through: Pick<typeof writer, 'create'> = writer) => {
    counter += 1;
    return through.create({
      username: `cached${counter}`,
      usernameKey: `cached${counter}`,
      email: `cached${counter}@example.com`,
      passwordHash: 'h1',
    });
  };
  const seen = (id: string, done: (user: UserRecord | undefined) => boolean) => eventually(() => server.findById(id), done, 2000);

  test('a cached user is served from memory: a change nobody announced is not seen until the TTL passes', async () => {
    // Made unannounced too: the writer's announcement of a new user could reach the cache after the
    // first read below (on a busy machine) and evict it, so the second read would go to MongoDB.
    const user = await newUser(raw);
    expect((await server.findById(user.id))?.active).toBe(true);
    await raw.setActive(user.id, false); // straight to MongoDB, as an unannounced change
    expect((await server.findById(user.id))?.active).toBe(true);
    clock += TTL_MS + 1;
    expect((await server.findById(user.id))?.active).toBe(false);
  });

  test.each<[string, (user: UserRecord) => Promise<unknown>, (user: UserRecord | undefined) => boolean]>([
    ['disable', (user) => writer.setActive(user.id, false), (user) => user?.active === false],
    ['delete', (user) => writer.delete(user.id), (user) => user === undefined],
    ['a new password hash', (user) => writer.updatePasswordHash(user.id, 'h2'), (user) => user?.passwordHash === 'h2'],
    [
      'a new email',
      (user) => writer.updateProfile(user.id, { username: user.username, usernameKey: user.usernameKey, email: `new-${user.email}` }),
      (user) => user?.email.startsWith('new-') === true,
    ],
    ['a name', (user) => writer.setName(user.id, 'Ada'), (user) => user?.name === 'Ada'],
    ['a verified email', (user) => writer.markEmailVerified(user.id, user.email), (user) => user?.emailVerified === true],
  ])('%s made on another instance reaches the cache at once', async (_change, change, done) => {
    const user = await newUser();
    expect(await server.findById(user.id)).toMatchObject({ id: user.id, active: true });
    await change(user);
    expect(done(await seen(user.id, done))).toBe(true);
  });

  test('sign-in lookups by email and username always read the database', async () => {
    const user = await newUser();
    await server.findById(user.id);
    await raw.updatePasswordHash(user.id, 'h3');
    expect((await server.findByEmail(user.email))?.passwordHash).toBe('h3');
    expect((await server.findByUsernameKey(user.usernameKey))?.passwordHash).toBe('h3');
  });

  test('cached users are frozen copies: a caller cannot change the cache', async () => {
    const user = await newUser();
    // Announcements of the tests above may still arrive and keep a read from being cached: read
    // until the copy comes from the cache.
    const cached = await eventually(
      () => server.findById(user.id),
      (found) => Object.isFrozen(found),
      2000,
    );
    expect(Object.isFrozen(cached)).toBe(true);
    expect(() => Object.assign(cached ?? {}, { active: false })).toThrow(TypeError);
    expect((await server.findById(user.id))?.active).toBe(true);
  });
});

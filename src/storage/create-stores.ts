import type { Connection } from 'mongoose';
import type { RedisTopology } from '../config/redis-topology.ts';
import { withClientChanges } from './cached-client-store.ts';
import { withUserChanges } from './cached-user-repository.ts';
import { createMemoryAttemptCounter } from './memory/memory-attempt-counter.ts';
import { createMemoryClientStore } from './memory/memory-client-store.ts';
import { createMemoryOidcStore } from './memory/memory-oidc-adapter.ts';
import { createMemorySecurityEventStore } from './memory/memory-security-event-store.ts';
import { createMemoryTokenStore } from './memory/memory-token-store.ts';
import { createMemoryUserRepository } from './memory/memory-user-repository.ts';
import { connectMongo } from './mongo/connect-mongo.ts';
import { createMongoClientStore } from './mongo/mongo-client-store.ts';
import { createMongoSecurityEventStore } from './mongo/mongo-security-event-store.ts';
import { createMongoUserRepository } from './mongo/mongo-user-repository.ts';
import type { CacheLookupResult, StoreObserver } from './observer.ts';
import type { OidcStore, Stores } from './ports.ts';
import { closeRedis, connectRedis, type RedisClient } from './redis/connect-redis.ts';
import { observeRedisCommands } from './redis/observe-redis-commands.ts';
import { createRedisAttemptCounter } from './redis/redis-attempt-counter.ts';
import { createRedisChangeFeed } from './redis/redis-change-feed.ts';
import { createRedisOidcStore } from './redis/redis-oidc-adapter.ts';
import { createRedisTokenStore } from './redis/redis-token-store.ts';
import type { Durability } from './redis/slot-writes.ts';
import { mapUnavailable } from './redis/unavailable.ts';
import { watchRedisConnection } from './redis/watch-redis-connection.ts';
import { withTimeout } from './with-timeout.ts';

/** A readiness probe must answer quickly even when a store hangs. */
const PING_TIMEOUT_MS = 2000;

export interface StoreOptions {
  mongodbUri: string | undefined;
  /** One Redis, a Sentinel-managed primary or a Cluster; unset: in-process stores. */
  redis: RedisTopology | undefined;
  /** Replicas that must hold sessions, grants, refresh tokens and revocations before they are answered. */
  redisDurability?: Durability;
  redisKeyPrefix: string;
  /** Seconds added to every stored lifetime (oidc-provider's clockTolerance). */
  clockTolerance: number;
  /**
   * Seconds a registered client may be served from this instance's cache when a change
   * announcement is lost; 0 or unset = read MongoDB at every lookup. Needs Redis (the announcements
   * travel over it); writes are announced whenever Redis is configured.
   */
  clientCacheTtl?: number;
  /** The same for users by id (the account check of token refresh and userinfo). */
  userCacheTtl?: number;
  /** Without Redis: what the in-process oidc-provider store may hold (bytes of JSON) before the least recently used goes. */
  memoryStoreMaxBytes?: number;
  /**
   * A server passes this: a change saved but not announced (Redis failed just then) is reported
   * here instead of failing the request that made it; other instances see it within the TTL.
   * Tools leave it out, so they fail loudly when they cannot tell the servers.
   */
  onAnnounceFailure?: (error: Error) => void;
  /** Told of every command's latency, cache lookups and connections lost and restored (a server's metrics and log). */
  observer?: StoreObserver;
}

/**
 * The routing table of storage: users in MongoDB, everything oidc-provider stores in Redis, each
 * falling back to an in-process store when its URL is not configured.
 * @throws Error naming the service that cannot be reached.
 */
export async function createStores(options: StoreOptions): Promise<Stores> {
  const { observer } = options;
  let mongo: Connection | undefined;
  let redis: RedisClient | undefined;
  try {
    if (options.mongodbUri) mongo = await connectMongo(options.mongodbUri, { observer });
    if (options.redis) redis = await connectRedis(options.redis);
  } catch (error) {
    await mongo?.close();
    throw error;
  }
  if (redis && observer?.connection) watchRedisConnection(redis, 'main', observer.connection);
  const stopObservingRedis = redis && observer?.command ? observeRedisCommands({ command: observer.command }) : undefined;

  let userRecords: Stores['users'];
  let securityEvents: Stores['securityEvents'];
  if (mongo) {
    const repository = createMongoUserRepository(mongo);
    const events = createMongoSecurityEventStore(mongo);
    await Promise.all([repository.ensureIndexes(), events.ensureIndexes()]);
    userRecords = repository;
    securityEvents = events;
  } else {
    userRecords = createMemoryUserRepository();
    securityEvents = createMemorySecurityEventStore();
  }

  const oidc = redis
    ? redisOidcStore(redis, options)
    : createMemoryOidcStore({ clockTolerance: options.clockTolerance, maxBytes: options.memoryStoreMaxBytes });

  const registered = mongo ? createMongoClientStore(mongo) : createMemoryClientStore();
  // Caches of clients and users need Redis: their changes are announced to every instance over it.
  const clientChanges = redis ? createRedisChangeFeed(redis, options.redisKeyPrefix, 'clients') : undefined;
  const announce = options.onAnnounceFailure ? { onAnnounceFailure: options.onAnnounceFailure } : {};
  const lookups = (cache: 'clients' | 'users') =>
    observer?.cacheLookup ? { onLookup: (result: CacheLookupResult) => observer.cacheLookup?.(cache, result) } : {};
  const clients = clientChanges
    ? withClientChanges(registered, clientChanges, { ttlMs: (options.clientCacheTtl ?? 0) * 1000, ...announce, ...lookups('clients') })
    : undefined;
  const userChanges = redis ? createRedisChangeFeed(redis, options.redisKeyPrefix, 'users') : undefined;
  const users = userChanges
    ? withUserChanges(userRecords, userChanges, { ttlMs: (options.userCacheTtl ?? 0) * 1000, ...announce, ...lookups('users') })
    : undefined;
  try {
    await Promise.all([clients?.start(), users?.start()]);
  } catch (error) {
    stopObservingRedis?.();
    await Promise.allSettled([clientChanges?.close(), userChanges?.close()]);
    await Promise.allSettled([redis && closeRedis(redis), mongo?.close()]);
    throw new Error(`cannot subscribe to client and user changes in Redis (${(error as Error).message})`, { cause: error });
  }
  const attempts = redis ? mapUnavailable(createRedisAttemptCounter(redis, options.redisKeyPrefix)) : createMemoryAttemptCounter();
  const tokens = redis ? mapUnavailable(createRedisTokenStore(redis, options.redisKeyPrefix)) : createMemoryTokenStore();

  return {
    users: users ?? userRecords,
    clients: clients ?? registered,
    oidcAdapter: oidc.adapter,
    endSessionsOf: oidc.endSessionsOf,
    grantsOf: oidc.grantsOf,
    attempts,
    tokens,
    securityEvents,
    kinds: { users: mongo ? 'mongodb' : 'memory', oidc: redis ? 'redis' : 'memory' },
    async ping() {
      const check = async (name: string, ping: Promise<unknown> | undefined) => {
        if (!ping) return;
        await withTimeout(ping, PING_TIMEOUT_MS).catch((error: unknown) => {
          throw new Error(`${name} does not answer`, { cause: error });
        });
      };
      // A Redis that answers PING may still refuse every write (out of memory under noeviction, a
      // read-only replica, min-replicas-to-write unmet); then no one can sign in, so it is not ready.
      const redisReady = async () => {
        if (!redis) return;
        await check('Redis', redis.ping());
        const probe = redis.set(`${options.redisKeyPrefix}health:write-probe`, String(Date.now()), 'PX', 10_000);
        await withTimeout(probe, PING_TIMEOUT_MS).catch((error: unknown) => {
          throw new Error(`Redis refuses writes (${(error as Error).message.split('\n')[0]})`, { cause: error });
        });
      };
      await Promise.all([check('MongoDB', mongo?.db?.admin().ping()), redisReady()]);
    },
    async close() {
      stopObservingRedis?.();
      await Promise.allSettled([clientChanges?.close(), userChanges?.close()]);
      await Promise.allSettled([redis && closeRedis(redis), mongo?.close()]);
    },
  };
}

/** The Redis oidc-provider store, answering 503 (never a wrong answer) while Redis is unavailable. */
function redisOidcStore(redis: RedisClient, options: StoreOptions): OidcStore {
  const store = createRedisOidcStore(redis, {
    prefix: options.redisKeyPrefix,
    clockTolerance: options.clockTolerance,
    ...(options.redisDurability ? { durability: options.redisDurability } : {}),
  });
  const { endSessionsOf, grantsOf } = mapUnavailable({ endSessionsOf: store.endSessionsOf, grantsOf: store.grantsOf });
  return { adapter: (model) => mapUnavailable(store.adapter(model)), endSessionsOf, grantsOf };
}

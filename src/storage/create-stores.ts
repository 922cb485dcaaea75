import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Stores } from './ports.ts';
import { createMemoryOidcAdapterFactory } from './memory/memory-oidc-adapter.ts';
import { createMemoryUserRepository } from './memory/memory-user-repository.ts';
import { connectMongo } from './mongo/connect-mongo.ts';
import { createMongoUserRepository } from './mongo/mongo-user-repository.ts';
import { connectRedis } from './redis/connect-redis.ts';
import { createRedisOidcAdapterFactory } from './redis/redis-oidc-adapter.ts';

export interface StoreOptions {
  mongodbUri: string | undefined;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  /** Seconds added to every stored lifetime (oidc-provider's clockTolerance). */
  clockTolerance: number;
}

/**
 * The routing table of storage: users in MongoDB, everything oidc-provider stores in Redis, each
 * falling back to an in-process store when its URL is not configured.
 * @throws Error naming the service that cannot be reached.
 */
export async function createStores(options: StoreOptions): Promise<Stores> {
  let mongo: Connection | undefined;
  let redis: Redis | undefined;
  try {
    if (options.mongodbUri) mongo = await connectMongo(options.mongodbUri);
    if (options.redisUrl) redis = await connectRedis(options.redisUrl);
  } catch (error) {
    await mongo?.close();
    throw error;
  }

  let users: Stores['users'];
  if (mongo) {
    const repository = createMongoUserRepository(mongo);
    await repository.ensureIndexes();
    users = repository;
  } else {
    users = createMemoryUserRepository();
  }

  const oidcAdapter = redis
    ? createRedisOidcAdapterFactory(redis, { prefix: options.redisKeyPrefix, clockTolerance: options.clockTolerance })
    : createMemoryOidcAdapterFactory({ clockTolerance: options.clockTolerance });

  return {
    users,
    oidcAdapter,
    kinds: { users: mongo ? 'mongodb' : 'memory', oidc: redis ? 'redis' : 'memory' },
    async ping() {
      await Promise.all([
        mongo?.db?.admin().ping().catch((error: unknown) => {
          throw new Error('MongoDB does not answer', { cause: error });
        }),
        redis?.ping().catch((error: unknown) => {
          throw new Error('Redis does not answer', { cause: error });
        }),
      ]);
    },
    async close() {
      await Promise.allSettled([redis?.quit(), mongo?.close()]);
    },
  };
}

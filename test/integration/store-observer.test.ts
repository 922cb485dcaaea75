import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../src/storage/mongo/connect-mongo.ts';
import { observeRedisCommands } from '../../src/storage/redis/observe-redis-commands.ts';
import { dropIsolation, isolation } from '../support/backends.ts';

type Seen = Array<[store: string, command: string, ok: boolean]>;

/** The stores' command observation against the real servers: what answered, what failed, under which label. */
describe('store command observation', () => {
  const scope = isolation('store-observer');
  afterAll(() => dropIsolation(scope));

  describe('MongoDB (the driver command monitoring)', () => {
    const seen: Seen = [];
    let connection: Connection;
    beforeAll(async () => {
      connection = await connectMongo(scope.mongodbUri, {
        observer: { command: (store, command, _s, ok) => void seen.push([store, command, ok]) },
      });
    });
    afterAll(() => connection?.close());

    test('a command that answers is ok, one the server refuses is an error, each under its own name', async () => {
      await connection.collection('things').findOne({ _id: 'none' } as never);
      await expect(connection.db?.command({ noSuchCommandHere: 1 })).rejects.toThrow();
      expect(seen).toEqual([
        ['mongodb', 'find', true],
        ['mongodb', 'nosuchcommandhere', false],
      ]);
    });
  });

  describe('Redis (the ioredis:command diagnostics channel)', () => {
    const seen: Seen = [];
    let redis: Redis;
    let stop: () => void;
    beforeAll(async () => {
      redis = new Redis(scope.redisUrl);
      await redis.ping();
      stop = observeRedisCommands({ command: (store, command, _s, ok) => void seen.push([store, command, ok]) });
    });
    afterAll(() => {
      stop?.();
      redis?.disconnect();
    });

    test('an answered command is ok and a refused one (WRONGTYPE) an error; nothing is seen once unsubscribed', async () => {
      const key = `${scope.redisKeyPrefix}observed`;
      await redis.set(key, 'text');
      await expect(redis.lpush(key, 'x')).rejects.toThrow(/WRONGTYPE/);
      stop();
      await redis.get(key);
      expect(seen).toEqual([
        ['redis', 'set', true],
        ['redis', 'lpush', false],
      ]);
    });
  });
});

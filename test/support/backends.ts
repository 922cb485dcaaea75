import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';

/** The servers started by global-setup (or given by REDIS_URL / MONGODB_URI). Fails loudly when absent. */
export function backendUrls(): { redisUrl: string; mongodbUri: string } {
  const redisUrl = process.env.TEST_REDIS_URL;
  const mongodbUri = process.env.TEST_MONGODB_URI;
  if (!redisUrl || !mongodbUri) {
    throw new Error('TEST_REDIS_URL / TEST_MONGODB_URI are not set: run the suite with npm test, which starts the servers');
  }
  return { redisUrl, mongodbUri };
}

/** Where one test file keeps its data: its own Redis key prefix and its own database. */
export interface Isolation {
  redisKeyPrefix: string;
  mongodbUri: string;
  redisUrl: string;
  databaseName: string;
}

/** A key prefix and a database name that belong to one test file only. */
export function isolation(label: string): Isolation {
  const { redisUrl, mongodbUri } = backendUrls();
  const id = `${label.replace(/[^a-z0-9]/gi, '').slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const url = new URL(mongodbUri);
  url.pathname = `/test_${id}`;
  return { redisKeyPrefix: `test:${id}:`, mongodbUri: url.toString(), redisUrl, databaseName: `test_${id}` };
}

/** Removes everything a test file wrote: its Redis keys and its database. */
export async function dropIsolation({ redisKeyPrefix, redisUrl, mongodbUri }: Isolation): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisKeyPrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  const connection = await mongoose.createConnection(mongodbUri).asPromise();
  try {
    await connection.dropDatabase();
  } finally {
    await connection.close();
  }
}

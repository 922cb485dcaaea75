import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { parseNode, type RedisTopology } from '../../src/config/redis-topology.ts';
import { closeRedis, connectRedis, isCluster } from '../../src/storage/redis/connect-redis.ts';

/** The servers started by global-setup (or given by REDIS_URL / MONGODB_URI). Fails loudly when absent. */
export function backendUrls(): { redisUrl: string; mongodbUri: string } {
  const redisUrl = process.env.TEST_REDIS_URL;
  const mongodbUri = process.env.TEST_MONGODB_URI;
  if (!redisUrl || !mongodbUri) {
    throw new Error('TEST_REDIS_URL / TEST_MONGODB_URI are not set: run the suite with npm test, which starts the servers');
  }
  return { redisUrl, mongodbUri };
}

/** The three ways the server can use Redis; every Redis contract suite runs on each. */
export type RedisKind = 'single' | 'sentinel' | 'cluster';
export const REDIS_KINDS: readonly RedisKind[] = ['single', 'sentinel', 'cluster'];

/** A Redis that global-setup started, as a topology and as the server's environment variables. */
export function testRedis(kind: RedisKind): { topology: RedisTopology; env: Record<string, string> } {
  const missing = (names: string) => new Error(`${names} not set: run the suite with npm test, which starts the Redis ${kind}`);
  if (kind === 'single') {
    const { redisUrl } = backendUrls();
    return { topology: { kind: 'single', url: redisUrl }, env: { REDIS_URL: redisUrl } };
  }
  const nodes = (list: string) => list.split(',').flatMap((entry) => parseNode(entry) ?? []);
  if (kind === 'cluster') {
    const seeds = process.env.TEST_REDIS_CLUSTER_NODES;
    if (!seeds) throw missing('TEST_REDIS_CLUSTER_NODES is');
    return { topology: { kind: 'cluster', nodes: nodes(seeds), tls: false }, env: { REDIS_CLUSTER_NODES: seeds } };
  }
  const sentinels = process.env.TEST_REDIS_SENTINELS;
  const name = process.env.TEST_REDIS_SENTINEL_NAME;
  if (!sentinels || !name) throw missing('TEST_REDIS_SENTINELS / TEST_REDIS_SENTINEL_NAME are');
  return {
    topology: { kind: 'sentinel', sentinels: nodes(sentinels), name, db: 0, tls: false },
    env: { REDIS_SENTINELS: sentinels, REDIS_SENTINEL_NAME: name },
  };
}

/** Where one test file keeps its data: its own Redis key prefix and its own database. */
export interface Isolation {
  redisKeyPrefix: string;
  mongodbUri: string;
  /** The shared single Redis (what `redisEnv` names when it is unset). */
  redisUrl: string;
  databaseName: string;
  /** Another Redis than the shared single one: its topology and the server's variables naming it. */
  redis?: { topology: RedisTopology; env: Record<string, string> };
}

/** A key prefix and a database name that belong to one test file only; on the single Redis unless `redis` says otherwise. */
export function isolation(label: string, { redis = 'single' }: { redis?: RedisKind } = {}): Isolation {
  const { redisUrl, mongodbUri } = backendUrls();
  const id = `${label.replace(/[^a-z0-9]/gi, '').slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const url = new URL(mongodbUri);
  url.pathname = `/test_${id}`;
  return {
    redisKeyPrefix: `test:${id}:`,
    mongodbUri: url.toString(),
    redisUrl,
    databaseName: `test_${id}`,
    ...(redis === 'single' ? {} : { redis: testRedis(redis) }),
  };
}

/** The topology an isolation's data lives on. */
export function topologyOf(scope: Pick<Isolation, 'redis' | 'redisUrl'>): RedisTopology {
  return scope.redis?.topology ?? { kind: 'single', url: scope.redisUrl };
}

/** The server's environment variables naming an isolation's Redis. */
export function redisEnvOf(scope: Pick<Isolation, 'redis' | 'redisUrl'>): Record<string, string> {
  return scope.redis?.env ?? { REDIS_URL: scope.redisUrl };
}

async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    // One DEL per key: on a Cluster node, keys of different slots cannot share a command.
    await Promise.all(keys.map((key) => redis.del(key)));
    cursor = next;
  } while (cursor !== '0');
}

/** Removes everything a test file wrote: its Redis keys (on every primary of a Cluster) and its database. */
export async function dropIsolation(scope: Isolation): Promise<void> {
  const redis = await connectRedis(topologyOf(scope));
  try {
    const primaries = isCluster(redis) ? redis.nodes('master') : [redis];
    await Promise.all(primaries.map((node) => deleteByPrefix(node, scope.redisKeyPrefix)));
  } finally {
    await closeRedis(redis);
  }
  const connection = await mongoose.createConnection(scope.mongodbUri).asPromise();
  try {
    await connection.dropDatabase();
  } finally {
    await connection.close();
  }
}

/**
 * Drops the scope's pub/sub connections on its Redis (every node of a Cluster), as a network fault
 * would: those named after its key prefix (the change feeds name theirs after their channel), so
 * the subscribers of test files running beside it on the shared servers are left alone.
 */
export async function killSubscribers(scope: Pick<Isolation, 'redis' | 'redisUrl' | 'redisKeyPrefix'>): Promise<void> {
  const redis = await connectRedis(topologyOf(scope));
  try {
    const nodes = isCluster(redis) ? redis.nodes('all') : [redis];
    await Promise.all(
      nodes.map(async (node) => {
        const list = String(await node.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
        const ids = list
          .split('\n')
          .filter((line) => line.includes(` name=${scope.redisKeyPrefix}`))
          .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
          .filter((id): id is string => id !== undefined);
        await Promise.all(ids.map((id) => node.client('KILL', 'ID', id)));
      }),
    );
  } finally {
    await closeRedis(redis);
  }
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMongo, startRedis, type TestService } from '../../scripts/lib/local-services.ts';
import { startRedisCluster, startRedisSentinel } from '../../scripts/lib/redis-topologies.ts';

declare global {
  var idpTestServices: Array<Pick<TestService, 'stop'>> | undefined;
  var idpTestTmpdir: { dir: string; previous: string | undefined } | undefined;
}

/**
 * Starts the real servers the suite runs against, once per run: a private Redis, a private
 * MongoDB-wire server, a Redis Cluster (three primaries, three replicas) and a Sentinel-managed
 * primary with a replica, all on free loopback ports. REDIS_URL / MONGODB_URI, when set, are used
 * instead of the first two. Test files read TEST_REDIS_URL / TEST_MONGODB_URI (and
 * TEST_REDIS_CLUSTER_NODES, TEST_REDIS_SENTINELS, TEST_REDIS_SENTINEL_NAME) and each works in its own
 * prefix / database. A backend that cannot start fails the run with the reason; nothing is skipped.
 */
export default async function globalSetup(): Promise<void> {
  const services: Array<Pick<TestService, 'stop'>> = [];
  globalThis.idpTestServices = services;
  // Settled together, so a failure of one still lets every other one be stopped.
  const [redis, mongo, cluster, sentinel] = await Promise.allSettled([
    process.env.REDIS_URL ? undefined : startRedis(),
    process.env.MONGODB_URI ? undefined : startMongo(),
    startRedisCluster(),
    startRedisSentinel(),
  ]);
  const results = [redis, mongo, cluster, sentinel];
  for (const result of results) if (result.status === 'fulfilled' && result.value) services.push(result.value);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.allSettled(services.map((service) => service.stop()));
    throw failed.reason;
  }
  const value = <T>(result: PromiseSettledResult<T>) => (result.status === 'fulfilled' ? result.value : undefined);
  process.env.TEST_REDIS_URL = process.env.REDIS_URL ?? value(redis)?.url;
  process.env.TEST_MONGODB_URI = process.env.MONGODB_URI ?? value(mongo)?.url;
  process.env.TEST_REDIS_CLUSTER_NODES = value(cluster)?.env.REDIS_CLUSTER_NODES;
  process.env.TEST_REDIS_SENTINELS = value(sentinel)?.env.REDIS_SENTINELS;
  process.env.TEST_REDIS_SENTINEL_NAME = value(sentinel)?.env.REDIS_SENTINEL_NAME;
  // Every temporary file of the run (test files' folders, the servers and tools they spawn) goes in
  // one folder that global-teardown removes: os.tmpdir() reads TMPDIR, which the test workers and
  // the processes they spawn inherit.
  const dir = mkdtempSync(join(tmpdir(), 'idp-test-run-'));
  globalThis.idpTestTmpdir = { dir, previous: process.env.TMPDIR };
  process.env.TMPDIR = dir;
}

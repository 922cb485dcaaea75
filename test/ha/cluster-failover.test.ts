import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type LocalRedisCluster, startRedisCluster } from '../../scripts/lib/redis-topologies.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { FAILOVER_TEST_TIMEOUT_MS, runFailover, startFailoverApp } from '../support/failover.ts';
import { rpClient } from '../support/relying-party.ts';
import type { RunningApp } from '../support/test-app.ts';

/**
 * A primary of a Redis Cluster dies (SIGKILL) while people sign in and apps refresh tokens. Each of
 * the three primaries has two replicas, and every session, grant and refresh token waits for one
 * of them (REDIS_WAIT_REPLICAS=1), so the cluster promotes a replica that holds everything
 * acknowledged in that primary's slots, and writes there go on with the other replica.
 */
describe('Redis Cluster failover under load', () => {
  const scope = isolation('failover-cluster');
  const client = rpClient();
  let local: LocalRedisCluster;
  let started: Awaited<ReturnType<typeof startFailoverApp>>;
  let app: RunningApp | undefined;

  beforeAll(async () => {
    local = await startRedisCluster({ replicasPerMaster: 2 });
    started = await startFailoverApp(scope, local, client, 16);
    app = started.app;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await local?.stop();
    await dropIsolation(scope);
  });

  test(
    'sign-ins and token requests go on without a restart; failures are clean 503s; nothing acknowledged is lost',
    async () => {
      const mastersBefore = await local.masters();
      const { killed } = await runFailover('cluster failover', started, async () => {
        const [victim] = mastersBefore;
        if (!victim) throw new Error('the cluster has no primary');
        return victim;
      });
      const mastersAfter = await local.masters();
      expect(mastersAfter).not.toContain(killed);
      expect(mastersAfter).toHaveLength(3);
    },
    FAILOVER_TEST_TIMEOUT_MS,
  );
});

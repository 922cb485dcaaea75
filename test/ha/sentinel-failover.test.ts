import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type LocalRedisSentinel, startRedisSentinel } from '../../scripts/lib/redis-topologies.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { FAILOVER_TEST_TIMEOUT_MS, runFailover, startFailoverApp } from '../support/failover.ts';
import { rpClient } from '../support/relying-party.ts';
import type { RunningApp } from '../support/test-app.ts';

/**
 * A Sentinel-managed primary dies (SIGKILL) while people sign in and apps refresh tokens. The
 * primary has two replicas, and every session, grant and refresh token waits for one of them
 * (REDIS_WAIT_REPLICAS=1), so the sentinels promote a replica that holds everything acknowledged,
 * and writes go on with the other replica.
 */
describe('Redis Sentinel failover under load', () => {
  const scope = isolation('failover-sentinel');
  const client = rpClient();
  let local: LocalRedisSentinel;
  let started: Awaited<ReturnType<typeof startFailoverApp>>;
  let app: RunningApp | undefined;

  beforeAll(async () => {
    local = await startRedisSentinel({ replicas: 2 });
    await local.awaitFailoverReady();
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
      const before = await local.primary();
      const { killed } = await runFailover('sentinel failover', started, () => local.primary());
      expect(killed).toBe(before);
      expect(await local.primary()).not.toBe(before);
    },
    FAILOVER_TEST_TIMEOUT_MS,
  );
});

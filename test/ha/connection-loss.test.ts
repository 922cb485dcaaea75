import { afterAll, afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { Redis } from 'ioredis';
import { closeRedis, connectRedis, isCluster, type RedisClient } from '../../src/storage/redis/connect-redis.ts';
import { createRedisOidcStore } from '../../src/storage/redis/redis-oidc-adapter.ts';
import { isRedisUnavailable, mapUnavailable, StoreUnavailableError } from '../../src/storage/redis/unavailable.ts';
import { dropIsolation, isolation, REDIS_KINDS, topologyOf } from '../support/backends.ts';
import { eventually } from '../support/eventually.ts';

/**
 * A connection to Redis that drops while a command waits for its reply, as when a primary dies
 * in a failover, on each topology. The client must end that command with an error the server turns
 * into a clean 503 (never leave it pending, never send it again: it may have run), and go on.
 * Each test keeps a command in flight with WAIT for more replicas than exist (or a BLPOP), and
 * kills its own connection with CLIENT KILL, so nothing else on the shared servers is touched.
 */

/** How long a command may take to settle after its connection was killed before it counts as left pending. */
const SETTLED_WITHIN_MS = 10_000;

type Outcome = { settled: 'resolved'; value: unknown } | { settled: 'rejected'; error: unknown } | { settled: 'pending' };

/** What `promise` came to within SETTLED_WITHIN_MS. */
async function outcomeOf(promise: Promise<unknown>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ settled: 'pending' }), SETTLED_WITHIN_MS);
  });
  try {
    return await Promise.race([
      promise.then(
        (value): Outcome => ({ settled: 'resolved', value }),
        (error: unknown): Outcome => ({ settled: 'rejected', error }),
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The connections a client sends its commands on: the one connection, or each primary's of a Cluster. */
const dataConnections = (client: RedisClient): Redis[] => (isCluster(client) ? client.nodes('master') : [client]);

interface Target {
  /** The CLIENT ID of one of the client's connections. */
  id: string;
  /** An admin connection to the same server. */
  server: Redis;
}

/**
 * The client's connections, found before a command blocks them (a CLIENT ID sent behind a blocked
 * command would wait for it), each with an admin connection to the same server.
 */
async function connectionsOf(client: RedisClient, admin: RedisClient): Promise<Target[]> {
  return Promise.all(
    dataConnections(client).map(async (connection) => {
      const id = String(await connection.client('ID'));
      const server = dataConnections(admin).find((candidate) => candidate.options.port === connection.options.port) ?? admin;
      return { id, server: server as Redis };
    }),
  );
}

/** Waits until one of the connections is blocked in `command` (CLIENT LIST says so), then kills them all. */
async function killWhenBlocked(targets: Target[], command: string): Promise<void> {
  const blocked = await eventually(
    async () => {
      const lists = await Promise.all(targets.map(({ id, server }) => server.client('LIST', 'ID', id)));
      return lists.some((list) => String(list).includes(`cmd=${command}`) && /flags=\S*b/.test(String(list)));
    },
    (found) => found,
    5000,
  );
  if (!blocked) throw new Error(`no connection of the client was blocked in ${command}`);
  await Promise.all(targets.map(({ id, server }) => server.client('KILL', 'ID', id)));
}

for (const kind of REDIS_KINDS) {
  describe(`a Redis connection lost with a command in flight (${kind})`, () => {
    const scope = isolation(`connection-loss-${kind}`, { redis: kind });
    let client: RedisClient;
    let admin: RedisClient;

    beforeEach(async () => {
      [client, admin] = await Promise.all([connectRedis(topologyOf(scope)), connectRedis(topologyOf(scope))]);
    });
    afterEach(async () => {
      await Promise.all([closeRedis(client), closeRedis(admin)]);
    });
    afterAll(() => dropIsolation(scope));

    test('the command fails as "unavailable" at once (it is neither left pending nor sent again), and the client goes on', async () => {
      // On one Redis or a Sentinel primary, WAIT for more replicas than exist blocks until its
      // timeout; on a Cluster a keyed command is needed to reach a known primary: BLPOP blocks too.
      const key = `${scope.redisKeyPrefix}empty-list`;
      const command = isCluster(client) ? 'blpop' : 'wait';
      const targets = await connectionsOf(client, admin);
      // Timeouts far longer than the test, so the command is still blocked when its connection is cut.
      const inFlight = outcomeOf(isCluster(client) ? client.blpop(key, 60) : client.wait(5, 60_000));
      await killWhenBlocked(targets, command);
      const outcome = await inFlight;

      // Before: ioredis 5 left the command pending for good once the reconnect succeeded (one
      // Redis, Sentinel), or sent it again on a new connection (Cluster), where it blocked anew
      // and then answered as if nothing had happened.
      expect(outcome.settled).toBe('rejected');
      if (outcome.settled === 'rejected') expect(isRedisUnavailable(outcome.error)).toBe(true);
      expect(await client.ping()).toBe('PONG');
    });

    test('a durable write whose WAIT is cut off answers 503 (StoreUnavailableError), not an unknown error', async () => {
      // A grant saved as on consent: MULTI ... EXEC, then WAIT for the replicas (more than exist, so it blocks).
      const store = createRedisOidcStore(client, { prefix: scope.redisKeyPrefix, durability: { replicas: 5, timeoutMs: 60_000 } });
      const grants = mapUnavailable(store.adapter('Grant'));
      const targets = await connectionsOf(client, admin);
      const saving = outcomeOf(grants.upsert('cut-grant', { accountId: 'cut-account', clientId: 'rp-app' }, 600));
      await killWhenBlocked(targets, 'wait');
      const outcome = await saving;

      // Before: the WAIT ioredis aborts with its connection ("Command aborted due to connection
      // close") was not recognised, and the consent page answered 500.
      expect(outcome.settled).toBe('rejected');
      if (outcome.settled === 'rejected') {
        expect(outcome.error).toBeInstanceOf(StoreUnavailableError);
        expect((outcome.error as StoreUnavailableError).statusCode).toBe(503);
      }
      expect(await client.ping()).toBe('PONG');
    });
  });
}

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { withClientChanges } from '../../src/storage/cached-client-store.ts';
import type { ChangeFeed, ClientStore } from '../../src/storage/ports.ts';
import { eventually } from '../support/eventually.ts';

/**
 * Two instances sharing one client registry and one change feed: `server` caches (as a running
 * server does), `admin` writes (as the clients tool does). `raw` writes behind everyone's back,
 * as a lost announcement would leave things.
 */
export interface CacheHarness {
  server: { store: ClientStore; feed: ChangeFeed };
  admin: { store: ClientStore; feed: ChangeFeed };
  raw: ClientStore;
  close(): Promise<void>;
}

/**
 * The client cache's promise: a change made through the store is seen by every instance as soon
 * as the announcement arrives (here: within ANNOUNCED_WITHIN_MS), and without an announcement a
 * cached client is served for at most the TTL.
 */
export const ANNOUNCED_WITHIN_MS = 1000;

export function describeClientCacheContract(name: string, open: () => Promise<CacheHarness>): void {
  describe(`client cache contract: ${name}`, () => {
    let harness: CacheHarness;
    let clock = 0;
    const TTL_MS = 60_000;
    let server: ReturnType<typeof withClientChanges>;
    let admin: ReturnType<typeof withClientChanges>;
    const metadata = {
      client_name: 'Cached',
      grant_types: ['client_credentials'],
      response_types: [] as string[],
      redirect_uris: [] as string[],
    };

    beforeAll(async () => {
      harness = await open();
      server = withClientChanges(harness.server.store, harness.server.feed, { ttlMs: TTL_MS, now: () => clock });
      admin = withClientChanges(harness.admin.store, harness.admin.feed, { ttlMs: 0 });
      await server.start();
    });
    afterAll(() => harness.close());

    const seen = (clientId: string) => server.find(clientId);

    test('a found client is served from the cache: a write nobody announced is not seen', async () => {
      // Written around the announcing store, so no late announcement of the creation evicts it.
      await harness.raw.create({ clientId: 'cache-1', metadata, sealedSecret: 'v1.old', disabled: false });
      expect((await seen('cache-1'))?.sealedSecret).toBe('v1.old');
      await harness.raw.update('cache-1', { sealedSecret: 'v1.unannounced' });
      expect((await seen('cache-1'))?.sealedSecret).toBe('v1.old');
    });

    test('without an announcement, a cached client is served for at most the TTL', async () => {
      clock += TTL_MS + 1;
      expect((await seen('cache-1'))?.sealedSecret).toBe('v1.unannounced');
    });

    test('disable, rotate-secret and delete through the store reach the caching instance at once', async () => {
      await admin.create({ clientId: 'cache-2', metadata, sealedSecret: 'v1.first', disabled: false });
      expect(await seen('cache-2')).toMatchObject({ disabled: false, sealedSecret: 'v1.first' });

      await admin.update('cache-2', { disabled: true });
      expect(
        await eventually(
          () => seen('cache-2'),
          (client) => client?.disabled === true,
          ANNOUNCED_WITHIN_MS,
        ),
      ).toMatchObject({ disabled: true });

      await admin.update('cache-2', { disabled: false, sealedSecret: 'v1.rotated' });
      expect(
        await eventually(
          () => seen('cache-2'),
          (client) => client?.sealedSecret === 'v1.rotated',
          ANNOUNCED_WITHIN_MS,
        ),
      ).toMatchObject({
        disabled: false,
        sealedSecret: 'v1.rotated',
      });

      await admin.delete('cache-2');
      expect(
        await eventually(
          () => seen('cache-2'),
          (client) => client === undefined,
          ANNOUNCED_WITHIN_MS,
        ),
      ).toBeUndefined();
    });

    test('a client created after an unknown id was looked up is found at once (unknown ids are not cached)', async () => {
      expect(await seen('cache-3')).toBeUndefined();
      await admin.create({ clientId: 'cache-3', metadata, sealedSecret: undefined, disabled: false });
      expect(await seen('cache-3')).toMatchObject({ clientId: 'cache-3' });
    });

    test('callers cannot change the cache: a cached client is frozen', async () => {
      await seen('cache-3');
      const cached = await seen('cache-3');
      if (!cached) throw new Error('cache-3 missing');
      expect(() => {
        (cached.metadata as { client_name: string }).client_name = 'Mutated';
      }).toThrow(TypeError);
      expect((await seen('cache-3'))?.metadata.client_name).toBe('Cached');
    });

    test('an instance that has not subscribed does not cache', async () => {
      const unsubscribed = withClientChanges(harness.server.store, harness.admin.feed, { ttlMs: TTL_MS, now: () => clock });
      await admin.create({ clientId: 'cache-4', metadata, sealedSecret: 'v1.a', disabled: false });
      expect((await unsubscribed.find('cache-4'))?.sealedSecret).toBe('v1.a');
      await harness.raw.update('cache-4', { sealedSecret: 'v1.b' });
      expect((await unsubscribed.find('cache-4'))?.sealedSecret).toBe('v1.b');
    });
  });
}

/** A store whose reads wait for `release`, to put a change between a read's start and its end. */
export function gatedStore(inner: ClientStore): { store: ClientStore; hold(): void; release(): void } {
  let gate: Promise<void> | undefined;
  let open: () => void = () => {};
  return {
    store: {
      ...inner,
      async find(clientId) {
        const result = await inner.find(clientId);
        if (gate) await gate;
        return result;
      },
    },
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open();
    },
  };
}

import { expect, test } from '@jest/globals';
import { withClientChanges } from '../../src/storage/cached-client-store.ts';
import { createMemoryChangeBus } from '../../src/storage/memory/memory-change-feed.ts';
import { createMemoryClientStore } from '../../src/storage/memory/memory-client-store.ts';
import { describeClientCacheContract, gatedStore } from './client-cache.contract.ts';

describeClientCacheContract('in-process feed', async () => {
  const registry = createMemoryClientStore();
  const bus = createMemoryChangeBus();
  const server = bus.feed();
  const admin = bus.feed();
  return {
    server: { store: registry, feed: server },
    admin: { store: registry, feed: admin },
    raw: registry,
    close: async () => {
      await Promise.all([server.close(), admin.close()]);
    },
  };
});

test('a read in flight while a change is announced is returned but not cached', async () => {
  const registry = createMemoryClientStore();
  const bus = createMemoryChangeBus();
  const gated = gatedStore(registry);
  const server = withClientChanges(gated.store, bus.feed(), { ttlMs: 60_000 });
  const admin = withClientChanges(registry, bus.feed(), { ttlMs: 0 });
  await server.start();
  await admin.create({ clientId: 'racing', metadata: {}, sealedSecret: 'v1.old', disabled: false });

  gated.hold();
  const inFlight = server.find('racing');
  await admin.update('racing', { sealedSecret: 'v1.new' });
  gated.release();
  expect((await inFlight)?.sealedSecret).toBe('v1.old');
  expect((await server.find('racing'))?.sealedSecret).toBe('v1.new');
});

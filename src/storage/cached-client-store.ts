import { type AnnouncedCacheOptions, createAnnouncedCache } from './announced-cache.ts';
import type { ChangeFeed, ClientStore, StoredClient } from './ports.ts';

/**
 * Registered clients with a per-instance cache, and every write announced on the change feed.
 *
 * oidc-provider looks the client up on every token, userinfo and introspection request, so without
 * a cache each of them pays a MongoDB read. A cached client is dropped as soon as any instance (or
 * the clients tool) announces a change to it; see createAnnouncedCache for the staleness bound.
 */
export function withClientChanges(
  store: ClientStore,
  feed: ChangeFeed,
  options: AnnouncedCacheOptions,
): ClientStore & { start(): Promise<void> } {
  const cache = createAnnouncedCache<StoredClient>(feed, 'client', options);
  return {
    start: () => cache.start(),
    find: (clientId) => cache.read(clientId, () => store.find(clientId)),
    list: () => store.list(),
    async create(client) {
      const created = await store.create(client);
      await cache.announce(created.clientId);
      return created;
    },
    async update(clientId, changes) {
      const updated = await store.update(clientId, changes);
      await cache.announce(clientId);
      return updated;
    },
    async delete(clientId) {
      const deleted = await store.delete(clientId);
      await cache.announce(clientId);
      return deleted;
    },
  };
}

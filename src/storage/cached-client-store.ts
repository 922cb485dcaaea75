import type { ClientChangeFeed, ClientStore, StoredClient } from './ports.ts';

export interface ClientCacheOptions {
  /** How long a cached client may be served without hearing of a change (ms); 0 = no cache. */
  ttlMs: number;
  now?: () => number;
}

/**
 * Registered clients with a per-instance cache, and every write announced on the change feed.
 *
 * oidc-provider looks the client up on every token, userinfo and introspection request, so without
 * a cache each of them pays a MongoDB read. A cached client is dropped as soon as any instance (or
 * the clients tool) announces a change to it; the TTL bounds staleness only when an announcement
 * is lost: the feed is at-most-once, so a cache is used only while its feed is live, and a
 * subscription that breaks or comes back clears the cache. A read that was in flight while a
 * change was announced is returned but not cached, so it cannot outlive the announcement.
 * Unknown ids are not cached, so guessing ids cannot fill memory and a new client counts at once.
 */
export function withClientChanges(store: ClientStore, feed: ClientChangeFeed, { ttlMs, now = Date.now }: ClientCacheOptions): ClientStore & { start(): Promise<void> } {
  const cache = new Map<string, { client: StoredClient; expiresAt: number }>();
  /** Bumped by every change heard; a read started under an older generation is not cached. */
  let generation = 0;
  // Cached clients are frozen and shared rather than copied per lookup (a copy per token request
  // showed in profiles); a caller that tried to change one would get a TypeError, not a bad cache.
  const freeze = (client: StoredClient): StoredClient => deepFreeze({ ...client, metadata: structuredClone(client.metadata) });
  const announce = async (clientId: string) => {
    cache.delete(clientId);
    generation += 1;
    try {
      await feed.publish(clientId);
    } catch (error) {
      throw new Error(
        `the change to client "${clientId}" is saved, but running servers could not be told (${(error as Error).message}); they see it when their cached copy expires`,
        { cause: error },
      );
    }
  };

  return {
    /** Subscribes to the feed; until then (and with ttlMs 0) nothing is cached. */
    async start() {
      if (ttlMs <= 0) return;
      await feed.subscribe((clientId) => {
        generation += 1;
        if (clientId === undefined) cache.clear();
        else cache.delete(clientId);
      });
    },
    async find(clientId) {
      const caching = ttlMs > 0 && feed.isLive();
      if (caching) {
        const hit = cache.get(clientId);
        if (hit && hit.expiresAt > now()) return hit.client;
      }
      const started = generation;
      const client = await store.find(clientId);
      if (client && caching && feed.isLive() && generation === started) {
        cache.set(clientId, { client: freeze(client), expiresAt: now() + ttlMs });
      } else if (!client) {
        cache.delete(clientId);
      }
      return client;
    },
    list: () => store.list(),
    async create(client) {
      const created = await store.create(client);
      await announce(created.clientId);
      return created;
    },
    async update(clientId, changes) {
      const updated = await store.update(clientId, changes);
      await announce(clientId);
      return updated;
    },
    async delete(clientId) {
      const deleted = await store.delete(clientId);
      await announce(clientId);
      return deleted;
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

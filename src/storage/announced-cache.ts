import type { CacheLookupResult } from './observer.ts';
import type { ChangeFeed } from './ports.ts';

export interface AnnouncedCacheOptions {
  /** How long a record may be served without hearing of a change (ms); 0 = no cache. */
  ttlMs: number;
  /** At most this many records are kept; the least recently stored goes first. */
  maxEntries?: number;
  now?: () => number;
  /**
   * Where a failed announcement goes when the write it follows must not fail (a server: the change
   * is saved, this instance's copy is already dropped, and others drop theirs within the TTL).
   * Without it the failure is thrown, for a tool whose only way to tell servers is the announcement.
   */
  onAnnounceFailure?: (error: Error) => void;
  /** Told how each read went (the metrics count hits and misses). */
  onLookup?: (result: CacheLookupResult) => void;
}

export interface AnnouncedCache<V> {
  /** Subscribes to the feed; until then (and with ttlMs 0) nothing is cached. */
  start(): Promise<void>;
  /** The cached record, or `load()`'s, cached when that is safe (see below). */
  read(id: string, load: () => Promise<V | undefined>): Promise<V | undefined>;
  /** Drops this instance's copy and tells every other instance to drop theirs. */
  announce(id: string): Promise<void>;
}

/**
 * A per-instance cache of records by id that every change reaches at once: each write is announced
 * on the change feed and every instance drops its copy when it hears it. The TTL bounds staleness
 * only when an announcement is lost: the feed is at-most-once, so the cache is used only while the
 * feed is live, and a subscription that breaks or comes back clears it. A read that was in flight
 * while a change was heard is returned but not cached, so it cannot outlive the announcement.
 * Unknown ids are not cached, so guessing ids cannot fill memory and a new record counts at once.
 * Cached records are frozen and shared rather than copied per read (a copy per request showed in
 * profiles); a caller that tried to change one gets a TypeError, not a corrupted cache.
 */
export function createAnnouncedCache<V extends object>(
  feed: ChangeFeed,
  what: string,
  { ttlMs, maxEntries = 10_000, now = Date.now, onAnnounceFailure, onLookup }: AnnouncedCacheOptions,
): AnnouncedCache<V> {
  const cache = new Map<string, { value: V; expiresAt: number }>();
  /** Bumped by every change heard; a read started under an older generation is not cached. */
  let generation = 0;

  return {
    async start() {
      if (ttlMs <= 0) return;
      await feed.subscribe((id) => {
        generation += 1;
        if (id === undefined) cache.clear();
        else cache.delete(id);
      });
    },
    async read(id, load) {
      const caching = ttlMs > 0 && feed.isLive();
      if (caching) {
        const hit = cache.get(id);
        if (hit && hit.expiresAt > now()) {
          onLookup?.('hit');
          return hit.value;
        }
      }
      onLookup?.(caching ? 'miss' : 'bypass');
      const started = generation;
      const value = await load();
      // Re-inserted at the end, so the Map's order is the order of storing, oldest first.
      cache.delete(id);
      if (value && caching && feed.isLive() && generation === started) {
        cache.set(id, { value: deepFreeze(structuredClone(value)), expiresAt: now() + ttlMs });
        if (cache.size > maxEntries) {
          const oldest = cache.keys().next();
          if (!oldest.done) cache.delete(oldest.value);
        }
      }
      return value;
    },
    async announce(id) {
      cache.delete(id);
      generation += 1;
      try {
        await feed.publish(id);
      } catch (error) {
        const failure = new Error(
          `the change to ${what} "${id}" is saved, but running servers could not be told (${(error as Error).message}); they see it when their cached copy expires`,
          { cause: error },
        );
        if (!onAnnounceFailure) throw failure;
        onAnnounceFailure(failure);
      }
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

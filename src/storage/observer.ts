/**
 * What the stores report about themselves, for metrics and logs, without knowing of either: the
 * assembly passes an observer (src/assemble.ts), the stores call it. Every label it is given is
 * bounded: store and cache names are fixed, commands are driver command names, never keys or ids.
 */
export interface StoreObserver {
  /** A command to Redis or MongoDB answered (`ok`) or failed, after `seconds`. */
  command?(store: 'redis' | 'mongodb', command: string, seconds: number, ok: boolean): void;
  /** A lookup in a per-instance cache: served from it, loaded into it, or the cache was not in use (off, or its feed down). */
  cacheLookup?(cache: 'clients' | 'users', result: CacheLookupResult): void;
  /** A connection that was up went down, or came back; each reported once per change, never per request. */
  connection?(change: ConnectionChange): void;
}

export type CacheLookupResult = 'hit' | 'miss' | 'bypass';

export interface ConnectionChange {
  store: 'redis' | 'mongodb';
  /** Which connection of that store (Redis: the shared one, or the subscriber of a change feed). */
  connection: string;
  state: 'lost' | 'restored';
  /** Why it was lost, when the driver said. */
  reason?: string | undefined;
}

/** A command name as a metric label: driver command names only; anything else is "other". */
export function commandLabel(name: unknown): string {
  return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_.-]{0,39}$/.test(name) ? name.toLowerCase() : 'other';
}

import type { Adapter, AdapterPayload } from 'oidc-provider';
import { AlreadyConsumedError } from '../oidc-models.ts';
import type { OidcStore } from '../ports.ts';

interface Entry<T> {
  value: T;
  /** Epoch milliseconds; undefined = no expiry. */
  expiresAt: number | undefined;
  /** Size of the stored record (its JSON length), for the memory bound. */
  size?: number;
}

export interface MemoryOidcAdapterOptions {
  /** Seconds added to every lifetime, like oidc-provider's own memory adapter (clockTolerance). */
  clockTolerance?: number;
  now?: () => number;
  /**
   * What the records may hold, counted as their JSON length; past it the least recently used go
   * first, so no client can grow the process without bound (default 64 MiB).
   */
  maxBytes?: number;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * In-process oidc-provider storage for the embedded mode and for tests. Same key model and
 * semantics as the Redis adapter (both pass test/contract/oidc-adapter.contract.ts); state is lost
 * on restart and not shared between processes.
 */
export function createMemoryOidcStore(options: MemoryOidcAdapterOptions = {}): OidcStore {
  const clockTolerance = options.clockTolerance ?? 0;
  const now = options.now ?? Date.now;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  /** In order of use, least recent first: a read or a write moves a record to the end. */
  const records = new Map<string, Entry<AdapterPayload>>();
  let storedBytes = 0;
  const forget = (key: string) => {
    const entry = records.get(key);
    if (!entry) return;
    storedBytes -= entry.size ?? 0;
    records.delete(key);
  };
  const store = (key: string, entry: Entry<AdapterPayload>) => {
    forget(key);
    records.set(key, entry);
    storedBytes += entry.size ?? 0;
    for (const oldest of records.keys()) {
      if (storedBytes <= maxBytes || oldest === key) break;
      forget(oldest);
    }
  };
  const touch = (key: string) => {
    const entry = records.get(key);
    if (entry) {
      records.delete(key);
      records.set(key, entry);
    }
  };
  const indexes = new Map<string, Entry<string>>();
  const grants = new Map<string, Entry<Set<string>>>();
  let lastSweep = now();

  const expiry = (expiresIn: number | undefined) => (expiresIn === undefined ? undefined : now() + (expiresIn + clockTolerance) * 1000);
  const alive = <T>(map: Map<string, Entry<T>>, key: string): T | undefined => {
    const entry = map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= now()) {
      if (map === (records as Map<string, unknown>)) forget(key);
      else map.delete(key);
      return undefined;
    }
    return entry.value;
  };
  const sweep = () => {
    if (now() - lastSweep < SWEEP_INTERVAL_MS) return;
    lastSweep = now();
    for (const map of [records, indexes, grants] as Array<Map<string, Entry<unknown>>>) {
      for (const key of map.keys()) alive(map, key);
    }
  };

  const endSessionsOf = async (accountId: string, { except }: { except?: string } = {}) => {
    let ended = 0;
    for (const [key, entry] of records) {
      if (!key.startsWith('Session:') || key === `Session:${except}`) continue;
      if (entry.value.accountId !== accountId || !alive(records, key)) continue;
      forget(key);
      if (entry.value.uid) indexes.delete(`sessionUid:${entry.value.uid}`);
      ended += 1;
    }
    return ended;
  };

  const adapter = function memoryAdapter(model: string): Adapter {
    const recordKey = (id: string) => `${model}:${id}`;
    const find = async (id: string) => {
      const payload = alive(records, recordKey(id));
      if (payload) touch(recordKey(id));
      return payload ? structuredClone(payload) : undefined;
    };
    const findByIndex = async (indexKey: string) => {
      const id = alive(indexes, indexKey);
      return id === undefined ? undefined : find(id);
    };
    const dropIndex = (indexKey: string, id: string) => {
      if (alive(indexes, indexKey) === id) indexes.delete(indexKey);
    };

    return {
      async upsert(id, payload, expiresIn) {
        sweep();
        const key = recordKey(id);
        const expiresAt = expiry(expiresIn);
        store(key, { value: structuredClone(payload), expiresAt, size: JSON.stringify(payload).length });
        if (model === 'Session' && payload.uid) indexes.set(`sessionUid:${payload.uid}`, { value: id, expiresAt });
        if (payload.userCode) indexes.set(`userCode:${payload.userCode}`, { value: id, expiresAt });
        if (payload.grantId) {
          const grantKey = `grant:${payload.grantId}`;
          const members = alive(grants, grantKey) ?? new Set<string>();
          const entry = grants.get(grantKey);
          members.add(key);
          if (payload.userCode) members.add(`userCode:${payload.userCode}`);
          const longest = entry?.expiresAt === undefined || expiresAt === undefined ? undefined : Math.max(entry.expiresAt, expiresAt);
          grants.set(grantKey, { value: members, expiresAt: entry ? longest : expiresAt });
        }
      },
      find,
      findByUid: (uid) => findByIndex(`sessionUid:${uid}`),
      findByUserCode: (userCode) => findByIndex(`userCode:${userCode}`),
      async consume(id) {
        const payload = alive(records, recordKey(id));
        // Check and set happen in one synchronous step, so of concurrent callers exactly one wins.
        if (!payload || payload.consumed) throw new AlreadyConsumedError(model, id);
        payload.consumed = Math.floor(now() / 1000);
      },
      async destroy(id) {
        const key = recordKey(id);
        const payload = alive(records, key);
        forget(key);
        if (!payload) return;
        if (model === 'Session' && payload.uid) dropIndex(`sessionUid:${payload.uid}`, id);
        if (payload.userCode) dropIndex(`userCode:${payload.userCode}`, id);
        if (payload.grantId) alive(grants, `grant:${payload.grantId}`)?.delete(key);
      },
      async revokeByGrantId(grantId) {
        const grantKey = `grant:${grantId}`;
        for (const member of alive(grants, grantKey) ?? []) {
          forget(member);
          indexes.delete(member);
        }
        grants.delete(grantKey);
      },
    };
  };
  const grantsOf = async (accountId: string) =>
    [...records.keys()]
      .filter((key) => key.startsWith('Grant:'))
      .map((key) => alive(records, key))
      .filter((payload): payload is AdapterPayload => payload?.accountId === accountId)
      .map((payload) => structuredClone(payload));
  return { adapter, endSessionsOf, grantsOf };
}

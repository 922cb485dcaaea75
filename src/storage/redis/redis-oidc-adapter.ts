import type { ChainableCommander } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { AlreadyConsumedError } from '../oidc-models.ts';
import type { OidcStore } from '../ports.ts';
import type { RedisClient } from './connect-redis.ts';
import { createSlotWriter, type Durability, type SlotStep } from './slot-writes.ts';

/**
 * oidc-provider storage in Redis: one Redis, a Sentinel-managed primary or a Redis Cluster. One
 * round trip per operation on the hot path of a single Redis.
 *
 * Layout, under `prefix`; the part in braces is the key's hash tag, which decides its Cluster slot:
 * - `oidc:<Model>:{<id>}`         HASH { payload: JSON, consumed?: epoch } — consumed lives beside the
 *                                 payload so `consume` is one atomic HSETNX that keeps the TTL.
 * - `oidc:sessionUid:{<uid>}`     id of the Session holding that uid
 * - `oidc:userCode:{<code>}`      id of the DeviceCode holding that user code
 * - `oidc:grant:{<grantId>}`      ZSET of what was issued under the grant (records and their indexes,
 *                                 as `<Model>:<id>` or `userCode:<code>`),
 *                                 scored by their expiry and pruned of expired ones at each addition;
 *                                 its TTL is the longest of its members' (EXPIRE NX + EXPIRE GT). It
 *                                 shares its slot with the Grant record itself (`oidc:Grant:{<grantId>}`).
 * - `oidc:account:{<accountId>}:Session` and `...:Grant`
 *                                 ZSETs, kept the same way, of that account's Session (or Grant) keys,
 *                                 in one slot per account, so all its sessions can be ended at once
 *                                 (password change or reset, "sign out everywhere") and its grants
 *                                 listed (connected apps).
 *
 * Every key expires with its record: TTL = expiresIn + clockTolerance. Records without a lifetime
 * (Client, Grant without ttl) do not expire.
 *
 * Why records and their indexes live in different slots: oidc-provider finds a record by its id
 * alone and a session by its uid alone, so each key's slot must follow from what its reader knows.
 * A record is tagged by its id, an index by the value it indexes. Every MULTI and script therefore
 * touches keys of one slot, all of them named in KEYS; an operation over several slots is a
 * sequence of such steps (slot-writes.ts), ordered so that a failure between two steps leaves
 * nothing that matters behind:
 * - writing: the indexes first (the grant's set, the account's set, the uid and user-code keys),
 *   then the record. A record never exists without the indexes that revoke or end it; a failure
 *   after the first step leaves an index entry pointing at nothing, which every reader ignores and
 *   which expires with it.
 * - deleting (destroy, end an account's sessions, revoke a grant): the records first (read and
 *   deleted in one step), then their index entries, so nothing is ever reachable through a
 *   half-removed index, and a revocation retried after a failure finds what is left.
 * On one Redis or a Sentinel primary, all steps of a write still go in one MULTI (one round trip,
 * all or nothing, as before). A destroy must read a record to know its indexes; for the records
 * destroyed on the hot path it removes the indexes this process last saw on them in the same MULTI
 * (see `recent`), and takes a second step only when the record it read back had others.
 *
 * With `durability.replicas` > 0, writes of Session, Grant and RefreshToken, the consumption of a
 * RefreshToken and every deletion of a record that grants access are answered only once that many
 * replicas hold them (WAIT), so a failover to one of those replicas loses none of them. The
 * short-lived records a person can simply start again (interactions, codes, access tokens) do not
 * wait.
 *
 * The old upstream example adapter is deliberately not the model here: it missed
 * PushedAuthorizationRequest/PreAuthorizedCode as consumables, let grant lists grow forever and left
 * indexes behind on destroy (panva/node-oidc-provider removed it in commit ba806ca8: `git show ba806ca8^:example/adapters/redis.js`).
 */

export interface RedisOidcAdapterOptions {
  /** Prepended to every key, e.g. "idp:". */
  prefix: string;
  clockTolerance?: number;
  /** Replicas a durable write must reach before it is answered; none by default. */
  durability?: Durability;
}

/** Writes that must survive a failover: a lost one signs a person out or cuts an app off. */
const DURABLE_WRITES = new Set(['Session', 'Grant', 'RefreshToken']);
/** Deletions that need not wait: of records that grant no access by themselves. */
const UNGUARDED_DELETES = new Set(['Interaction', 'ReplayDetection', 'PushedAuthorizationRequest']);

/** Models whose records' index fields are remembered for a destroy in one round trip (see `recent`). */
const REMEMBERED = new Set(['Session', 'Interaction', 'RefreshToken']);
const REMEMBERED_MAX = 10_000;

type IndexFields = Pick<AdapterPayload, 'uid' | 'userCode' | 'grantId' | 'accountId'>;
interface IndexEntry {
  name: string;
  remove: SlotStep;
}

const CONSUME_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])
`;

/* Deletes an index key only while it still points at the record ARGV[1] (a newer record may own it). */
const DROP_INDEX_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface Scripted extends ChainableCommander {
  idpConsume(key: string, consumedAt: string): ChainableCommander;
  idpDropIndex(key: string, id: string): ChainableCommander;
}

function withScripts(redis: RedisClient): void {
  if (typeof (redis as unknown as { idpDropIndex?: unknown }).idpDropIndex !== 'function') {
    redis.defineCommand('idpConsume', { numberOfKeys: 1, lua: CONSUME_SCRIPT });
    redis.defineCommand('idpDropIndex', { numberOfKeys: 1, lua: DROP_INDEX_SCRIPT });
  }
}

const scripted = (queue: ChainableCommander) => queue as Scripted;

/** The payload of a record read and deleted in one step, when it was there. */
function parsePayload(raw: unknown): AdapterPayload | undefined {
  return typeof raw === 'string' ? (JSON.parse(raw) as AdapterPayload) : undefined;
}

export function createRedisOidcStore(redis: RedisClient, options: RedisOidcAdapterOptions): OidcStore {
  withScripts(redis);
  const writer = createSlotWriter(redis, options.durability);
  const { prefix } = options;
  const clockTolerance = options.clockTolerance ?? 0;
  const recordKey = (model: string, id: string) => `${prefix}oidc:${model}:{${id}}`;
  const grantKey = (grantId: string) => `${prefix}oidc:grant:{${grantId}}`;
  const uidKey = (uid: string) => `${prefix}oidc:sessionUid:{${uid}}`;
  const userCodeKey = (userCode: string) => `${prefix}oidc:userCode:{${userCode}}`;
  const accountKey = (model: 'Session' | 'Grant', accountId: string) => `${prefix}oidc:account:{${accountId}}:${model}`;
  const hasAccountIndex = (model: string): model is 'Session' | 'Grant' => model === 'Session' || model === 'Grant';
  /*
   * An index names its members `<Model>:<id>` (or `userCode:<code>`), not by their whole key: the
   * shorter names keep a small sorted set in Redis's compact encoding (members up to 64 bytes), at
   * about 70 bytes a member instead of some 150 and a tenth of the first member's cost.
   */
  const member = (name: string, value: string) => `${name}:${value}`;
  const keyOfMember = (entry: string) => {
    const colon = entry.indexOf(':');
    return `${prefix}oidc:${entry.slice(0, colon)}:{${entry.slice(colon + 1)}}`;
  };

  /**
   * What points at a record: one entry per index, named so that two lists can be compared, each
   * with the step that removes it once the record is gone (a uid or user-code key only while it
   * still names this record: a newer one may own it).
   */
  const indexEntries = (model: string, id: string, payload: IndexFields): IndexEntry[] => {
    const entries: IndexEntry[] = [];
    const { uid, userCode, grantId, accountId } = payload;
    if (model === 'Session' && typeof uid === 'string') {
      entries.push({ name: `uid ${uid}`, remove: (queue) => scripted(queue).idpDropIndex(uidKey(uid), id) });
    }
    if (typeof userCode === 'string') {
      entries.push({ name: `userCode ${userCode}`, remove: (queue) => scripted(queue).idpDropIndex(userCodeKey(userCode), id) });
    }
    if (typeof grantId === 'string') {
      entries.push({ name: `grant ${grantId}`, remove: (queue) => queue.zrem(grantKey(grantId), member(model, id)) });
    }
    if (hasAccountIndex(model) && typeof accountId === 'string') {
      entries.push({ name: `account ${accountId}`, remove: (queue) => queue.zrem(accountKey(model, accountId), member(model, id)) });
    }
    return entries;
  };

  /*
   * The index fields of records this process read or wrote lately, of the models oidc-provider
   * destroys on the hot path (a Session gets a new id at every sign-in, an Interaction ends, a
   * rotated RefreshToken goes), each destroyed in the same request that read it. A destroy removes
   * those index entries in the same round trip as the record; the payload it reads back says
   * whether anything else pointed at the record (another instance changed it), which a second
   * step then removes. A guess can only save a round trip, never leave an entry behind.
   */
  const recent = new Map<string, IndexFields>();
  const remember = (model: string, id: string, payload: AdapterPayload) => {
    if (!REMEMBERED.has(model)) return;
    const key = recordKey(model, id);
    recent.delete(key);
    const { uid, userCode, grantId, accountId } = payload;
    if (uid === undefined && userCode === undefined && grantId === undefined && accountId === undefined) return;
    recent.set(key, { uid, userCode, grantId, accountId });
    if (recent.size > REMEMBERED_MAX) {
      const oldest = recent.keys().next();
      if (!oldest.done) recent.delete(oldest.value);
    }
  };

  /** Reads and deletes records in one step each; the payloads of those that were there. */
  const take = async (keys: string[], durable: boolean) => {
    const replies = await writer.run([keys.map((key) => (queue: ChainableCommander) => queue.hget(key, 'payload').del(key))], { durable });
    return replies.map((reply) => parsePayload(reply[0]?.[1]));
  };

  /*
   * oidc-provider revokes a grant by calling every model's revokeByGrantId at once; they share one
   * revocation per grant id instead of each reading and deleting the same set.
   */
  const revoking = new Map<string, Promise<void>>();
  const revoke = async (grantId: string) => {
    const set = grantKey(grantId);
    const members = await redis.zrange(set, 0, -1);
    if (members.length === 0) return;
    const keys = members.map(keyOfMember);
    // Members first; the set loses exactly those afterwards, so a token added meanwhile keeps its entry.
    await writer.run([keys.map((key) => (queue: ChainableCommander) => queue.del(key)), [(queue) => queue.zrem(set, ...members)]], {
      durable: true,
    });
  };

  const adapter = function redisAdapter(model: string): Adapter {
    const keyOf = (id: string) => recordKey(model, id);

    async function find(id: string): Promise<AdapterPayload | undefined> {
      const [payload, consumed] = await redis.hmget(keyOf(id), 'payload', 'consumed');
      if (!payload) return undefined;
      const parsed = JSON.parse(payload) as AdapterPayload;
      if (consumed) parsed.consumed = Number(consumed);
      remember(model, id, parsed);
      return parsed;
    }

    async function findByIndex(indexKey: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(indexKey);
      return id ? find(id) : undefined;
    }

    return {
      async upsert(id, payload, expiresIn) {
        const key = keyOf(id);
        const ttl = expiresIn === undefined ? undefined : expiresIn + clockTolerance;
        const fields: Record<string, string> = { payload: JSON.stringify(payload) };
        if (payload.consumed) fields.consumed = String(payload.consumed);

        const indexes: SlotStep[] = [];
        const { uid, accountId, userCode, grantId } = payload;
        if (model === 'Session' && uid) indexes.push((queue) => setIndex(queue, uidKey(uid), id, ttl));
        if (hasAccountIndex(model) && accountId) {
          indexes.push((queue) => addToIndex(queue, accountKey(model, accountId), [member(model, id)], ttl));
        }
        if (typeof userCode === 'string') indexes.push((queue) => setIndex(queue, userCodeKey(userCode), id, ttl));
        if (grantId) {
          const members = typeof userCode === 'string' ? [member(model, id), member('userCode', userCode)] : [member(model, id)];
          indexes.push((queue) => addToIndex(queue, grantKey(grantId), members, ttl));
        }
        const record: SlotStep = (queue) => {
          queue.del(key).hset(key, fields);
          if (ttl !== undefined) queue.expire(key, ttl);
        };
        await writer.run([indexes, [record]], { durable: DURABLE_WRITES.has(model) });
        remember(model, id, payload);
      },
      find,
      findByUid: (uid) => findByIndex(uidKey(uid)),
      findByUserCode: (userCode) => findByIndex(userCodeKey(userCode)),
      async consume(id) {
        const consumedAt = String(Math.floor(Date.now() / 1000));
        const [reply] = await writer.run([[(queue) => scripted(queue).idpConsume(keyOf(id), consumedAt)]], {
          durable: DURABLE_WRITES.has(model),
        });
        if (reply?.[0]?.[1] !== 1) throw new AlreadyConsumedError(model, id);
      },
      async destroy(id) {
        const key = keyOf(id);
        const durable = !UNGUARDED_DELETES.has(model);
        const guessed = indexEntries(model, id, recent.get(key) ?? {});
        recent.delete(key);
        // The record first, then what pointed at it (one MULTI on one Redis; two steps on a Cluster).
        const [taken] = await writer.run([[(queue) => queue.hget(key, 'payload').del(key)], guessed.map((entry) => entry.remove)], {
          durable,
        });
        const payload = parsePayload(taken?.[0]?.[1]);
        if (!payload) return;
        const left = indexEntries(model, id, payload).filter((entry) => !guessed.some((done) => done.name === entry.name));
        if (left.length > 0) await writer.run([left.map((entry) => entry.remove)], { durable });
      },
      revokeByGrantId(grantId) {
        let running = revoking.get(grantId);
        if (!running) {
          running = revoke(grantId).finally(() => revoking.delete(grantId));
          revoking.set(grantId, running);
        }
        return running;
      },
    };
  };

  return {
    adapter,
    async endSessionsOf(accountId, { except } = {}) {
      const set = accountKey('Session', accountId);
      const members = (await redis.zrange(set, 0, -1)).filter((entry) => except === undefined || entry !== member('Session', except));
      if (members.length === 0) return 0;
      const payloads = await take(members.map(keyOfMember), true);
      const cleanup: SlotStep[] = [];
      payloads.forEach((payload, index) => {
        const sessionId = members[index]?.slice('Session:'.length);
        if (payload && sessionId && typeof payload.uid === 'string') {
          const uid = payload.uid;
          cleanup.push((queue) => scripted(queue).idpDropIndex(uidKey(uid), sessionId));
        }
      });
      cleanup.push((queue) => queue.zrem(set, ...members));
      await writer.run([cleanup], { durable: true });
      return payloads.filter(Boolean).length;
    },
    async grantsOf(accountId) {
      const keys = (await redis.zrange(accountKey('Grant', accountId), 0, -1)).map(keyOfMember);
      if (keys.length === 0) return [];
      const replies = await writer.run([keys.map((key) => (queue: ChainableCommander) => queue.hget(key, 'payload'))]);
      return replies.map((reply) => parsePayload(reply[0]?.[1])).filter((payload): payload is AdapterPayload => payload !== undefined);
    },
  };
}

/**
 * Adds members to an index (a sorted set scored by each member's expiry, epoch seconds) whose own
 * TTL follows its longest-lived member. Members whose records have expired are dropped at each
 * addition, so an index holds what is alive rather than everything ever issued under it: an app
 * refreshing its tokens every hour for the 14 days of a grant would otherwise leave some 300
 * expired access-token keys in the grant's index.
 */
function addToIndex(queue: ChainableCommander, index: string, members: string[], ttl: number | undefined): void {
  const now = Math.floor(Date.now() / 1000);
  const score = ttl === undefined ? '+inf' : String(now + ttl);
  queue.zadd(index, ...members.flatMap((member) => [score, member]));
  queue.zremrangebyscore(index, '-inf', `(${now}`);
  if (ttl === undefined) queue.persist(index);
  else queue.expire(index, ttl, 'NX').expire(index, ttl, 'GT');
}

function setIndex(queue: ChainableCommander, key: string, id: string, ttl: number | undefined): void {
  if (ttl === undefined) queue.set(key, id);
  else queue.set(key, id, 'EX', ttl);
}

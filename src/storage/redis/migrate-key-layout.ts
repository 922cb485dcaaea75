import type { Redis } from 'ioredis';
import type { RedisTopology } from '../../config/redis-topology.ts';
import { closeRedis, connectRedis, isCluster } from './connect-redis.ts';

/**
 * Moves oidc-provider's records from the first key layout (`oidc:<Model>:<id>`, used before the
 * server ran on Redis Cluster) to the current one (`oidc:<Model>:{<id>}`, see
 * redis-oidc-adapter.ts), so that an upgrade signs nobody out and keeps every grant and refresh
 * token. Each key keeps its value and its TTL: records and single-value indexes are renamed
 * (RENAMENX: a key the new server already wrote wins), index sets become the sorted sets of the
 * current layout with their members renamed, merged into whatever the new server has added. Safe to run again, and while servers run: keys
 * of the current layout are left alone. The first layout never ran on a Cluster, so there only
 * nothing is found.
 */

export interface MigrationResult {
  /** Keys of the first layout found. */
  found: number;
  /** Records and single-value indexes renamed. */
  renamed: number;
  /** Index sets copied into the current layout. */
  merged: number;
  /** Keys dropped because the current layout already had them. */
  superseded: number;
}

/** The current name of a key of the first layout, or undefined when it is of the current layout (or not ours). */
export function currentKeyName(prefix: string, key: string): string | undefined {
  const base = `${prefix}oidc:`;
  if (!key.startsWith(base)) return undefined;
  const rest = key.slice(base.length);
  const colon = rest.indexOf(':');
  if (colon <= 0) return undefined;
  const name = rest.slice(0, colon);
  const tail = rest.slice(colon + 1);
  if (tail.startsWith('{') || name === 'account') return undefined;
  if (name === 'byAccount') {
    const split = tail.indexOf(':');
    if (split <= 0) return undefined;
    return `${base}account:{${tail.slice(split + 1)}}:${tail.slice(0, split)}`;
  }
  return `${base}${name}:{${tail}}`;
}

async function migrateKey(redis: Redis, prefix: string, key: string, target: string, result: MigrationResult): Promise<void> {
  const type = await redis.type(key);
  if (type === 'none') return;
  if (type !== 'set') {
    if ((await redis.renamenx(key, target)) === 1) result.renamed += 1;
    else {
      await redis.del(key);
      result.superseded += 1;
    }
    return;
  }
  const [members, ttlMs] = await Promise.all([redis.smembers(key), redis.pttl(key)]);
  // The current indexes name a member `<Model>:<id>` (or `userCode:<code>`): the earlier key without its prefix.
  const base = `${prefix}oidc:`;
  const renamed = members.map((member) => (member.startsWith(base) ? member.slice(base.length) : member));
  // The current indexes are sorted sets scored by each member's expiry; the earlier sets did not
  // record it, so every member gets the set's own (that of its longest-lived member): an expired
  // member is then dropped later than it could be, never earlier.
  const score = ttlMs > 0 ? String(Math.ceil((Date.now() + ttlMs) / 1000)) : '+inf';
  const multi = redis.multi();
  if (renamed.length > 0) multi.zadd(target, ...renamed.flatMap((member) => [score, member]));
  // The copy lives as long as its longest-lived member, as the adapter keeps it.
  if (ttlMs > 0) multi.pexpire(target, ttlMs, 'NX').pexpire(target, ttlMs, 'GT');
  else if (ttlMs === -1) multi.persist(target);
  multi.del(key);
  const replies = (await multi.exec()) ?? [];
  const failed = replies.find(([error]) => error);
  if (failed?.[0]) throw failed[0];
  result.merged += 1;
}

export async function migrateRedisKeyLayout(
  topology: RedisTopology,
  prefix: string,
  { dryRun = false }: { dryRun?: boolean } = {},
): Promise<MigrationResult> {
  const result: MigrationResult = { found: 0, renamed: 0, merged: 0, superseded: 0 };
  const client = await connectRedis(topology);
  try {
    if (isCluster(client)) return result;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}oidc:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const target = currentKeyName(prefix, key);
        if (!target) continue;
        result.found += 1;
        if (!dryRun) await migrateKey(client, prefix, key, target, result);
      }
    } while (cursor !== '0');
    return result;
  } finally {
    await closeRedis(client);
  }
}

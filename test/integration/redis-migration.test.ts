import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Redis } from 'ioredis';
import { closeRedis, connectRedis } from '../../src/storage/redis/connect-redis.ts';
import { createRedisOidcStore } from '../../src/storage/redis/redis-oidc-adapter.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { runTool } from '../support/cli.ts';

/**
 * An upgrade from the key layout of earlier releases (`oidc:<Model>:<id>`, written here key by key
 * as the adapter of those releases wrote them) signs nobody out: after `npm run migrate-redis`, the
 * current adapter finds every session, grant and refresh token, with its indexes and lifetime.
 */
describe('npm run migrate-redis', () => {
  const scope = isolation('redis-migration');
  const prefix = scope.redisKeyPrefix;
  const env = { REDIS_URL: scope.redisUrl, IDP_REDIS_KEY_PREFIX: prefix };
  let redis: Redis;

  beforeAll(async () => {
    redis = await connectRedis(scope.redisUrl);
  });
  afterAll(async () => {
    await closeRedis(redis);
    await dropIsolation(scope);
  });

  const old = (name: string) => `${prefix}oidc:${name}`;
  const seedEarlierLayout = async () => {
    const record = (payload: object) => ({ payload: JSON.stringify(payload) });
    await redis
      .multi()
      .hset(old('Session:s-1'), record({ jti: 's-1', uid: 'u-1', accountId: 'ada' }))
      .expire(old('Session:s-1'), 600)
      .set(old('sessionUid:u-1'), 's-1', 'EX', 600)
      .sadd(old('byAccount:Session:ada'), old('Session:s-1'))
      .expire(old('byAccount:Session:ada'), 600)
      .hset(old('Grant:g-1'), record({ jti: 'g-1', accountId: 'ada', clientId: 'shop' }))
      .expire(old('Grant:g-1'), 900)
      .sadd(old('byAccount:Grant:ada'), old('Grant:g-1'))
      .expire(old('byAccount:Grant:ada'), 900)
      .hset(old('RefreshToken:rt-1'), record({ jti: 'rt-1', grantId: 'g-1', accountId: 'ada' }))
      .expire(old('RefreshToken:rt-1'), 900)
      .sadd(old('grant:g-1'), old('RefreshToken:rt-1'))
      .expire(old('grant:g-1'), 900)
      .exec();
  };

  test('moves every record and index, keeps their lifetimes, and a second run finds nothing', async () => {
    await seedEarlierLayout();
    const dryRun = await runTool('migrate-redis', ['--dry-run', '--json'], env);
    expect(dryRun.stderr).toBe('');
    expect(JSON.parse(dryRun.stdout)).toEqual({ dryRun: true, found: 7, renamed: 0, merged: 0, superseded: 0 });

    const run = await runTool('migrate-redis', [], env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe('7 keys of the earlier layout: 4 moved, 3 index sets merged, 0 already replaced by the server.\n');

    const store = createRedisOidcStore(redis, { prefix });
    expect(await store.adapter('Session').findByUid('u-1')).toMatchObject({ jti: 's-1', accountId: 'ada' });
    expect((await store.grantsOf('ada')).map((grant) => grant.clientId)).toEqual(['shop']);
    const refreshTtl = await redis.ttl(`${prefix}oidc:RefreshToken:{rt-1}`);
    expect(refreshTtl).toBeGreaterThan(800);
    expect(refreshTtl).toBeLessThanOrEqual(900);
    // Revoking the grant still reaches its refresh token; "sign out everywhere" still finds the session.
    await store.adapter('RefreshToken').revokeByGrantId('g-1');
    expect(await store.adapter('RefreshToken').find('rt-1')).toBeUndefined();
    expect(await store.endSessionsOf('ada')).toBe(1);

    const again = await runTool('migrate-redis', ['--json'], env);
    expect(JSON.parse(again.stdout)).toEqual({ dryRun: false, found: 0, renamed: 0, merged: 0, superseded: 0 });
  });
});

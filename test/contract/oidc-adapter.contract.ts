import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from '@jest/globals';
import type { AdapterPayload } from 'oidc-provider';
import { AlreadyConsumedError } from '../../src/storage/oidc-models.ts';
import type { OidcAdapterFactory, OidcStore } from '../../src/storage/ports.ts';
import type { TestClock } from '../support/clock.ts';

export interface AdapterUnderTest extends Omit<OidcStore, 'adapter'> {
  factory: OidcAdapterFactory;
  close(): Promise<void>;
}

const epoch = () => Math.floor(Date.now() / 1000);

function token(extra: Partial<AdapterPayload> = {}): AdapterPayload {
  return { jti: randomUUID(), iat: epoch(), exp: epoch() + 60, clientId: 'client', accountId: 'user', ...extra };
}

/**
 * One suite for every oidc-provider storage adapter: what oidc-provider relies on (find, upsert,
 * consume, destroy, indexes, revoke by grant) and what we promise on top (atomic consume, TTLs that
 * follow the model's lifetime plus clock tolerance, no index left behind). `clock` is the time the
 * store reads.
 */
export function describeOidcAdapterContract(
  name: string,
  clock: TestClock,
  open: (clockTolerance: number) => Promise<AdapterUnderTest>,
): void {
  describe(`oidc adapter contract: ${name}`, () => {
    // One store per clock tolerance, shared by every model, as in one server process.
    const opened = new Map<number, Promise<AdapterUnderTest>>();
    const adapterFor = async (model: string, clockTolerance = 0) => {
      let underTest = opened.get(clockTolerance);
      if (!underTest) {
        underTest = open(clockTolerance);
        opened.set(clockTolerance, underTest);
      }
      return (await underTest).factory(model);
    };
    afterAll(async () => {
      await Promise.all([...opened.values()].map(async (underTest) => (await underTest).close()));
    });

    test('stores a payload verbatim and finds it by id', async () => {
      const adapter = await adapterFor('AccessToken');
      const payload = token({ scope: 'openid email', extra: { nested: [1, 'two', { three: true }] }, resource: [] as unknown as string });
      await adapter.upsert('at-1', payload, 60);
      expect(await adapter.find('at-1')).toEqual(payload);
      expect(await adapter.find('unknown')).toBeUndefined();
    });

    test('an upsert replaces the previous payload', async () => {
      const adapter = await adapterFor('Session');
      await adapter.upsert('s-1', { uid: 'u-1', accountId: 'a' }, 60);
      await adapter.upsert('s-1', { uid: 'u-1', accountId: 'b' }, 60);
      expect(await adapter.find('s-1')).toEqual({ uid: 'u-1', accountId: 'b' });
    });

    test('records expire after their lifetime; records without one do not', async () => {
      const sessions = await adapterFor('Session');
      const clients = await adapterFor('Client');
      await sessions.upsert('short', { uid: 'short-uid' }, 1);
      await clients.upsert('forever', { client_id: 'forever' });
      expect(await sessions.findByUid('short-uid')).toEqual({ uid: 'short-uid' });
      await clock.advance(1300);
      expect(await sessions.find('short')).toBeUndefined();
      expect(await sessions.findByUid('short-uid')).toBeUndefined();
      expect(await clients.find('forever')).toEqual({ client_id: 'forever' });
    });

    test('clock tolerance is added to every lifetime', async () => {
      const adapter = await adapterFor('AuthorizationCode', 1);
      await adapter.upsert('padded', token(), 1);
      await clock.advance(1300);
      expect(await adapter.find('padded')).toBeDefined();
      await clock.advance(1000);
      expect(await adapter.find('padded')).toBeUndefined();
    });

    test('consume marks the record consumed and keeps its lifetime', async () => {
      const adapter = await adapterFor('AuthorizationCode');
      await adapter.upsert('code-1', token(), 1);
      await adapter.consume('code-1');
      const found = await adapter.find('code-1');
      expect(typeof found?.consumed).toBe('number');
      expect(found?.consumed).toBeGreaterThanOrEqual(epoch() - 1);
      await clock.advance(1300);
      expect(await adapter.find('code-1')).toBeUndefined();
    });

    test('consume is atomic: of many concurrent redemptions exactly one succeeds', async () => {
      const adapter = await adapterFor('RefreshToken');
      await adapter.upsert('rt-race', token(), 60);
      const results = await Promise.allSettled(Array.from({ length: 25 }, () => adapter.consume('rt-race')));
      const fulfilled = results.filter((result) => result.status === 'fulfilled');
      const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(24);
      for (const result of rejected) expect(result.reason).toBeInstanceOf(AlreadyConsumedError);
    });

    test('consuming a record that does not exist is refused', async () => {
      const adapter = await adapterFor('AuthorizationCode');
      await expect(adapter.consume('missing')).rejects.toBeInstanceOf(AlreadyConsumedError);
    });

    test('revokeByGrantId removes every token of that grant, and only those', async () => {
      const grantId = randomUUID();
      const otherGrant = randomUUID();
      const [accessTokens, refreshTokens, codes] = await Promise.all(
        ['AccessToken', 'RefreshToken', 'AuthorizationCode'].map((model) => adapterFor(model)),
      );
      if (!accessTokens || !refreshTokens || !codes) throw new Error('adapters missing');
      await accessTokens.upsert('at', token({ grantId }), 60);
      await refreshTokens.upsert('rt', token({ grantId }), 120);
      await codes.upsert('code', token({ grantId }), 30);
      await accessTokens.upsert('other', token({ grantId: otherGrant }), 60);

      await accessTokens.revokeByGrantId(grantId);
      await refreshTokens.revokeByGrantId(grantId); // oidc-provider calls it once per model: idempotent

      expect(await accessTokens.find('at')).toBeUndefined();
      expect(await refreshTokens.find('rt')).toBeUndefined();
      expect(await codes.find('code')).toBeUndefined();
      expect(await accessTokens.find('other')).toBeDefined();
    });

    test('the grant index lives as long as its longest-lived token', async () => {
      const grantId = randomUUID();
      const accessTokens = await adapterFor('AccessToken');
      const refreshTokens = await adapterFor('RefreshToken');
      await refreshTokens.upsert('long', token({ grantId }), 4);
      await accessTokens.upsert('short', token({ grantId }), 1);
      await clock.advance(1300);
      await accessTokens.revokeByGrantId(grantId);
      expect(await refreshTokens.find('long')).toBeUndefined();
    });

    test('destroy removes the record and its indexes', async () => {
      const sessions = await adapterFor('Session');
      await sessions.upsert('s-destroy', { uid: 'uid-destroy' }, 60);
      await sessions.destroy('s-destroy');
      expect(await sessions.find('s-destroy')).toBeUndefined();
      expect(await sessions.findByUid('uid-destroy')).toBeUndefined();
      await sessions.destroy('never-existed');
    });

    test('a session uid index follows the session when its id changes at sign-in', async () => {
      const sessions = await adapterFor('Session');
      await sessions.upsert('old-jti', { uid: 'stable-uid', accountId: 'a' }, 60);
      // oidc-provider's resetIdentifier(): the new record is written, the old one destroyed.
      await sessions.upsert('new-jti', { uid: 'stable-uid', accountId: 'a' }, 60);
      await sessions.destroy('old-jti');
      expect(await sessions.find('old-jti')).toBeUndefined();
      expect(await sessions.findByUid('stable-uid')).toEqual({ uid: 'stable-uid', accountId: 'a' });
    });

    test('device codes are found by user code, and the index goes with the record', async () => {
      const deviceCodes = await adapterFor('DeviceCode');
      const grantId = randomUUID();
      await deviceCodes.upsert('dc-1', token({ userCode: 'ABCD-EFGH', grantId }), 60);
      expect((await deviceCodes.findByUserCode('ABCD-EFGH'))?.jti).toBeDefined();
      await deviceCodes.revokeByGrantId(grantId);
      expect(await deviceCodes.findByUserCode('ABCD-EFGH')).toBeUndefined();
    });

    test('every session of one account can be ended at once; other accounts keep theirs', async () => {
      const sessions = await adapterFor('Session');
      const store = await opened.get(0);
      if (!store) throw new Error('store not open');
      await sessions.upsert('alice-1', { uid: 'alice-uid-1', accountId: 'alice' }, 60);
      await sessions.upsert('alice-2', { uid: 'alice-uid-2', accountId: 'alice' }, 60);
      await sessions.upsert('anonymous', { uid: 'anon-uid' }, 60);
      await sessions.upsert('bob-1', { uid: 'bob-uid-1', accountId: 'bob' }, 60);
      // A session that was destroyed (logout) is no longer counted.
      await sessions.upsert('alice-3', { uid: 'alice-uid-3', accountId: 'alice' }, 60);
      await sessions.destroy('alice-3');

      expect(await store.endSessionsOf('alice')).toBe(2);
      expect(await sessions.find('alice-1')).toBeUndefined();
      expect(await sessions.findByUid('alice-uid-2')).toBeUndefined();
      expect(await sessions.find('bob-1')).toBeDefined();
      expect(await sessions.find('anonymous')).toBeDefined();
      expect(await store.endSessionsOf('alice')).toBe(0);
    });

    test('all sessions but the current one can be ended', async () => {
      const sessions = await adapterFor('Session');
      const store = await opened.get(0);
      if (!store) throw new Error('store not open');
      await sessions.upsert('carol-here', { uid: 'carol-uid-1', accountId: 'carol' }, 60);
      await sessions.upsert('carol-elsewhere', { uid: 'carol-uid-2', accountId: 'carol' }, 60);
      expect(await store.endSessionsOf('carol', { except: 'carol-here' })).toBe(1);
      expect(await sessions.find('carol-here')).toBeDefined();
      expect(await sessions.find('carol-elsewhere')).toBeUndefined();
      expect(await store.endSessionsOf('carol')).toBe(1);
    });

    test("an account's grants can be listed; a destroyed grant drops out", async () => {
      const grants = await adapterFor('Grant');
      const store = await opened.get(0);
      if (!store) throw new Error('store not open');
      await grants.upsert('dave-app-1', { jti: 'dave-app-1', accountId: 'dave', clientId: 'app-1' }, 60);
      await grants.upsert('dave-app-2', { jti: 'dave-app-2', accountId: 'dave', clientId: 'app-2' }, 60);
      await grants.upsert('erin-app-1', { jti: 'erin-app-1', accountId: 'erin', clientId: 'app-1' }, 60);
      expect((await store.grantsOf('dave')).map((grant) => grant.clientId).sort()).toEqual(['app-1', 'app-2']);
      await grants.destroy('dave-app-1');
      expect((await store.grantsOf('dave')).map((grant) => grant.clientId)).toEqual(['app-2']);
      expect(await store.grantsOf('nobody')).toEqual([]);
    });

    test("one adapter factory does not see another model's records", async () => {
      const accessTokens = await adapterFor('AccessToken');
      const refreshTokens = await adapterFor('RefreshToken');
      await accessTokens.upsert('shared-id', token(), 60);
      expect(await refreshTokens.find('shared-id')).toBeUndefined();
    });
  });
}

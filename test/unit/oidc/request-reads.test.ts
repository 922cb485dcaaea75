import { describe, expect, test } from '@jest/globals';
import type { AdapterPayload } from 'oidc-provider';
import { runInRequestScope } from '../../../src/logging/request-scope.ts';
import { withReadsPerRequest } from '../../../src/oidc/request-reads.ts';
import { createMemoryOidcStore } from '../../../src/storage/memory/memory-oidc-adapter.ts';
import type { OidcAdapterFactory } from '../../../src/storage/ports.ts';

/** The in-process store, counting the reads that reach it. */
function countingStore() {
  const store = createMemoryOidcStore();
  const reads: string[] = [];
  const factory: OidcAdapterFactory = (model) => {
    const adapter = store.adapter(model);
    return {
      ...adapter,
      upsert: adapter.upsert.bind(adapter),
      destroy: adapter.destroy.bind(adapter),
      consume: adapter.consume.bind(adapter),
      revokeByGrantId: adapter.revokeByGrantId.bind(adapter),
      findByUserCode: adapter.findByUserCode.bind(adapter),
      find: (id) => {
        reads.push(`${model}:${id}`);
        return adapter.find(id);
      },
      findByUid: (uid) => {
        reads.push(`${model}:uid:${uid}`);
        return adapter.findByUid(uid);
      },
    };
  };
  return { adapter: withReadsPerRequest(factory), reads };
}

const request = <T>(work: () => Promise<T>) =>
  runInRequestScope({ requestId: 'r-0000001', ip: '127.0.0.1', userAgent: undefined, atEnd: [] }, work);
const session: AdapterPayload = { uid: 'u1', accountId: 'a1', exp: Math.floor(Date.now() / 1000) + 600 };

describe('reads of one request', () => {
  test('a record read twice in one request reaches the store once; the next request reads it again', async () => {
    const { adapter, reads } = countingStore();
    await adapter('Session').upsert('s1', session, 600);
    await request(async () => {
      expect(await adapter('Session').find('s1')).toMatchObject(session);
      expect(await adapter('Session').find('s1')).toMatchObject(session);
      expect(await adapter('Session').findByUid('u1')).toMatchObject(session);
      expect(await adapter('Session').findByUid('u1')).toMatchObject(session);
    });
    expect(reads).toEqual(['Session:s1', 'Session:uid:u1']);
    await request(() => adapter('Session').find('s1'));
    expect(reads).toEqual(['Session:s1', 'Session:uid:u1', 'Session:s1']);
  });

  test('what a request writes it reads back without the store; a destroy forgets it; a copy is returned each time', async () => {
    const { adapter, reads } = countingStore();
    await request(async () => {
      await adapter('Interaction').upsert('i1', { prompt: { name: 'login', reasons: [], details: {} }, exp: session.exp }, 600);
      const first = await adapter('Interaction').find('i1');
      expect(first).toMatchObject({ prompt: { name: 'login' } });
      if (first) first.prompt = { name: 'changed', reasons: [], details: {} };
      expect(await adapter('Interaction').find('i1')).toMatchObject({ prompt: { name: 'login' } });
      expect(reads).toEqual([]);
      await adapter('Interaction').destroy('i1');
      expect(await adapter('Interaction').find('i1')).toBeUndefined();
    });
    expect(reads).toEqual(['Interaction:i1']);
  });

  test('outside a request, and for codes and tokens, every read reaches the store', async () => {
    const { adapter, reads } = countingStore();
    await adapter('Session').upsert('s1', session, 600);
    await adapter('Session').find('s1');
    await adapter('Session').find('s1');
    await adapter('AuthorizationCode').upsert('c1', { grantId: 'g1', exp: session.exp }, 60);
    await request(async () => {
      await adapter('AuthorizationCode').find('c1');
      await adapter('AuthorizationCode').find('c1');
    });
    expect(reads).toEqual(['Session:s1', 'Session:s1', 'AuthorizationCode:c1', 'AuthorizationCode:c1']);
  });
});

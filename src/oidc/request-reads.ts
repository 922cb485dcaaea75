import type { Adapter, AdapterPayload } from 'oidc-provider';
import { currentRequest, type RequestScope } from '../logging/request-scope.ts';
import type { OidcAdapterFactory } from '../storage/ports.ts';

/**
 * Records oidc-provider reads several times while it serves one request: our interaction pages load
 * the interaction and its session, then `interactionFinished` loads them again; the consent page's
 * POST reads the interaction, the session's uid and the session twice. Each read is a round trip to
 * the store. Within one request, a record read once (or just written) is answered again from what
 * was read, as a unit of work would; a destroy, consume or grant revocation forgets it. Nothing is
 * kept beyond the request: the next request reads the store again, so other instances' writes are
 * seen as before.
 *
 * Only the records that are read more than once per request are kept (interactions, sessions,
 * grants); codes and tokens are read once, and their consumption must always reach the store.
 */
const KEPT = new Set(['Interaction', 'Session', 'Grant']);

type Memo = Map<string, AdapterPayload | undefined>;

const memos = new WeakMap<RequestScope, Memo>();

function memoOfRequest(): Memo | undefined {
  const scope = currentRequest();
  if (!scope) return undefined;
  let memo = memos.get(scope);
  if (!memo) {
    memo = new Map();
    memos.set(scope, memo);
  }
  return memo;
}

/** A copy, so that neither oidc-provider nor a later read changes what is kept. */
const copy = (payload: AdapterPayload | undefined) => (payload === undefined ? undefined : structuredClone(payload));

export function withReadsPerRequest(factory: OidcAdapterFactory): OidcAdapterFactory {
  return (model) => {
    const adapter = factory(model);
    if (!KEPT.has(model)) return adapter;
    const byId = (id: string) => `${model}:id:${id}`;
    const byUid = (uid: string) => `${model}:uid:${uid}`;
    const remembered: Adapter = {
      async upsert(id, payload, expiresIn) {
        await adapter.upsert(id, payload, expiresIn);
        const memo = memoOfRequest();
        if (!memo) return;
        memo.set(byId(id), copy(payload));
        if (payload.uid) memo.set(byUid(payload.uid), copy(payload));
      },
      async find(id) {
        const memo = memoOfRequest();
        if (memo?.has(byId(id))) return copy(memo.get(byId(id)));
        const payload = (await adapter.find(id)) ?? undefined;
        memo?.set(byId(id), copy(payload));
        return payload;
      },
      async findByUid(uid) {
        const memo = memoOfRequest();
        if (memo?.has(byUid(uid))) return copy(memo.get(byUid(uid)));
        const payload = (await adapter.findByUid(uid)) ?? undefined;
        memo?.set(byUid(uid), copy(payload));
        return payload;
      },
      async findByUserCode(userCode) {
        return adapter.findByUserCode(userCode);
      },
      async destroy(id) {
        memoOfRequest()?.clear();
        await adapter.destroy(id);
      },
      async consume(id) {
        memoOfRequest()?.clear();
        await adapter.consume(id);
      },
      async revokeByGrantId(grantId) {
        memoOfRequest()?.clear();
        await adapter.revokeByGrantId(grantId);
      },
    };
    return remembered;
  };
}

import { createMemoryOidcStore } from '../../src/storage/memory/memory-oidc-adapter.ts';
import { describeOidcAdapterContract } from './oidc-adapter.contract.ts';

describeOidcAdapterContract('memory', async (clockTolerance) => {
  const store = createMemoryOidcStore({ clockTolerance });
  return { factory: store.adapter, endSessionsOf: store.endSessionsOf, grantsOf: store.grantsOf, close: async () => {} };
});

import { createMemoryOidcAdapterFactory } from '../../src/storage/memory/memory-oidc-adapter.ts';
import { describeOidcAdapterContract } from './oidc-adapter.contract.ts';

// One store per test, like one process.
describeOidcAdapterContract('memory', async (clockTolerance) => {
  const factory = createMemoryOidcAdapterFactory({ clockTolerance });
  return { factory, close: async () => {} };
});

import { createMemoryOidcStore } from '../../src/storage/memory/memory-oidc-adapter.ts';
import { fakeClock } from '../support/clock.ts';
import { describeOidcAdapterContract } from './oidc-adapter.contract.ts';

const clock = fakeClock();
describeOidcAdapterContract('memory', clock, async (clockTolerance) => {
  const store = createMemoryOidcStore({ clockTolerance, now: clock.now });
  return { factory: store.adapter, endSessionsOf: store.endSessionsOf, grantsOf: store.grantsOf, close: async () => {} };
});

import { createMemoryTokenStore } from '../../src/storage/memory/memory-token-store.ts';
import { fakeClock } from '../support/clock.ts';
import { describeTokenStoreContract } from './token-store.contract.ts';

const clock = fakeClock();
describeTokenStoreContract('memory', clock, async () => ({ tokens: createMemoryTokenStore(clock.now), close: async () => {} }));

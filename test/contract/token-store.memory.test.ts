import { createMemoryTokenStore } from '../../src/storage/memory/memory-token-store.ts';
import { describeTokenStoreContract } from './token-store.contract.ts';

describeTokenStoreContract('memory', async () => ({ tokens: createMemoryTokenStore(), close: async () => {} }));

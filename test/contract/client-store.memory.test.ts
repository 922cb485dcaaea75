import { createMemoryClientStore } from '../../src/storage/memory/memory-client-store.ts';
import { describeClientStoreContract } from './client-store.contract.ts';

describeClientStoreContract('memory', async () => ({ clients: createMemoryClientStore(), close: async () => {} }));

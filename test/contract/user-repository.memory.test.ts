import { createMemoryUserRepository } from '../../src/storage/memory/memory-user-repository.ts';
import { describeUserRepositoryContract } from './user-repository.contract.ts';

describeUserRepositoryContract('memory', async () => ({ users: createMemoryUserRepository(), close: async () => {} }));

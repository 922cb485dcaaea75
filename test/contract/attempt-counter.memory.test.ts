import { createMemoryAttemptCounter } from '../../src/storage/memory/memory-attempt-counter.ts';
import { describeAttemptCounterContract } from './attempt-counter.contract.ts';

describeAttemptCounterContract('memory', async () => ({ counter: createMemoryAttemptCounter(), close: async () => {} }));

import { createMemoryAttemptCounter } from '../../src/storage/memory/memory-attempt-counter.ts';
import { fakeClock } from '../support/clock.ts';
import { describeAttemptCounterContract } from './attempt-counter.contract.ts';

const clock = fakeClock();
describeAttemptCounterContract('memory', clock, async () => ({ counter: createMemoryAttemptCounter(clock.now), close: async () => {} }));

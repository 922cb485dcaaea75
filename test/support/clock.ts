import { sleep } from './eventually.ts';

/** Time as a contract suite sees it: what the store under test reads as now, and a way to let time pass. */
export interface TestClock {
  /** Epoch milliseconds, for a store's `now` option. */
  now(): number;
  /** Lets `ms` pass for the store. */
  advance(ms: number): Promise<void>;
}

/** Real time, for stores that keep expiry themselves (Redis TTLs): letting time pass means waiting. */
export const realClock: TestClock = { now: () => Date.now(), advance: sleep };

/**
 * Real time plus whatever the test let pass, for in-process stores that read an injected `now`:
 * time passes at once, and never runs backwards, so timestamps a test compares with Date.now() stay
 * in order.
 */
export function fakeClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: async (ms) => {
      offset += ms;
    },
  };
}

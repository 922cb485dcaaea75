import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { AttemptCounter } from '../../src/storage/ports.ts';
import type { TestClock } from '../support/clock.ts';

/** One suite for every failure-counter store used by brute-force defence; `clock` is the time the store reads. */
export function describeAttemptCounterContract(
  name: string,
  clock: TestClock,
  open: () => Promise<{ counter: AttemptCounter; close(): Promise<void> }>,
): void {
  describe(`attempt counter contract: ${name}`, () => {
    let counter: AttemptCounter;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ counter, close } = await open());
    });
    afterAll(() => close());

    test('counts failures, keeping the first time and moving the last', async () => {
      const key = randomUUID();
      expect(await counter.get(key)).toBeUndefined();
      const first = await counter.recordFailure(key, 60, 'sliding');
      await clock.advance(5);
      const second = await counter.recordFailure(key, 60, 'sliding');
      expect(first.count).toBe(1);
      expect(second).toEqual({ count: 2, first: first.first, last: expect.any(Number) });
      expect(second.last).toBeGreaterThan(first.last);
      expect(await counter.get(key)).toEqual(second);
    });

    test('concurrent failures are all counted', async () => {
      const key = randomUUID();
      await Promise.all(Array.from({ length: 20 }, () => counter.recordFailure(key, 60, 'sliding')));
      expect((await counter.get(key))?.count).toBe(20);
    });

    test('reset forgets the key', async () => {
      const key = randomUUID();
      await counter.recordFailure(key, 60, 'sliding');
      await counter.reset(key);
      expect(await counter.get(key)).toBeUndefined();
    });

    test('sliding expiry restarts at each failure; fixed expiry runs from the first', async () => {
      const sliding = randomUUID();
      const fixed = randomUUID();
      await counter.recordFailure(sliding, 2, 'sliding');
      await counter.recordFailure(fixed, 2, 'fixed');
      await clock.advance(1200);
      await counter.recordFailure(sliding, 2, 'sliding');
      await counter.recordFailure(fixed, 2, 'fixed');
      await clock.advance(1200);
      expect((await counter.get(sliding))?.count).toBe(2);
      expect(await counter.get(fixed)).toBeUndefined();
    });
  });
}

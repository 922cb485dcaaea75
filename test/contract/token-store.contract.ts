import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { OneTimeTokenStore } from '../../src/storage/ports.ts';
import type { TestClock } from '../support/clock.ts';

/** One suite for every single-use token store (verification and reset links); `clock` is the time the store reads. */
export function describeTokenStoreContract(
  name: string,
  clock: TestClock,
  open: () => Promise<{ tokens: OneTimeTokenStore; close(): Promise<void> }>,
): void {
  describe(`one-time token store contract: ${name}`, () => {
    let tokens: OneTimeTokenStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ tokens, close } = await open());
    });
    afterAll(() => close());

    test('a token is redeemed once, for its own purpose only', async () => {
      const hash = randomUUID();
      await tokens.save('reset', hash, { userId: 'u1' }, 60);
      expect(await tokens.consume('verify', hash)).toBeUndefined();
      expect(await tokens.consume('reset', hash)).toEqual({ userId: 'u1' });
      expect(await tokens.consume('reset', hash)).toBeUndefined();
    });

    test('find reads a token without redeeming it', async () => {
      const hash = randomUUID();
      await tokens.save('reset', hash, { userId: 'u4' }, 60);
      expect(await tokens.find('reset', hash)).toEqual({ userId: 'u4' });
      expect(await tokens.consume('reset', hash)).toEqual({ userId: 'u4' });
      expect(await tokens.find('reset', hash)).toBeUndefined();
    });

    test('of concurrent redemptions exactly one gets the payload', async () => {
      const hash = randomUUID();
      await tokens.save('reset', hash, { userId: 'u2' }, 60);
      const results = await Promise.all(Array.from({ length: 10 }, () => tokens.consume('reset', hash)));
      expect(results.filter(Boolean)).toEqual([{ userId: 'u2' }]);
    });

    test('a claim is granted once per purpose and key, to one of many claimants, until it expires', async () => {
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 10 }, () => tokens.claim('totp', key, 1)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await tokens.claim('recovery', key, 1)).toBe(true);
      expect(await tokens.claim('totp', key, 1)).toBe(false);
      await clock.advance(1200);
      expect(await tokens.claim('totp', key, 1)).toBe(true);
    });

    test('a token expires', async () => {
      const hash = randomUUID();
      await tokens.save('verify', hash, { userId: 'u3' }, 1);
      await clock.advance(1200);
      expect(await tokens.consume('verify', hash)).toBeUndefined();
    });
  });
}

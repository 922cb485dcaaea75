import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { SecurityEventStore, StoredSecurityEvent } from '../../src/storage/ports.ts';

export interface SecurityEventHarness {
  events: SecurityEventStore;
  close(): Promise<void>;
}

const MINUTE = 60_000;

/** What every security event store does: newest first, the retention window, limits, purges, deletion with the account. */
export function describeSecurityEventStoreContract(name: string, open: () => Promise<SecurityEventHarness>): void {
  describe(`security event store contract: ${name}`, () => {
    let harness: SecurityEventHarness;
    beforeAll(async () => {
      harness = await open();
    });
    afterAll(() => harness.close());
    const base = Date.UTC(2030, 0, 1);
    const at = (minutes: number) => new Date(base + minutes * MINUTE);
    const everything = { since: new Date(0), limit: 100 };
    const typesOf = (list: StoredSecurityEvent[]) => list.map((event) => event.type);

    test('an event comes back as written, with an id, and without the fields it did not have', async () => {
      await harness.events.append({
        at: at(0),
        type: 'login.succeeded',
        actor: 'user',
        accountId: 'acct-1',
        clientId: 'shop',
        ip: '203.0.113.9',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
        requestId: 'req-1',
        details: { remember: true, attempt: 2, reason: 'ok' },
      });
      await harness.events.append({ at: at(1), type: 'admin.account_disabled', actor: 'admin', accountId: 'acct-1' });
      const [latest, first] = await harness.events.forAccount('acct-1', everything);
      expect(latest).toEqual({ id: expect.any(String), at: at(1), type: 'admin.account_disabled', actor: 'admin', accountId: 'acct-1' });
      expect(first).toEqual({
        id: expect.any(String),
        at: at(0),
        type: 'login.succeeded',
        actor: 'user',
        accountId: 'acct-1',
        clientId: 'shop',
        ip: '203.0.113.9',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
        requestId: 'req-1',
        details: { remember: true, attempt: 2, reason: 'ok' },
      });
      expect(latest?.id).not.toBe(first?.id);
    });

    test("newest first, at most `limit`, none older than `since`, only the account's own", async () => {
      for (let minute = 10; minute < 15; minute += 1)
        await harness.events.append({ at: at(minute), type: `t${minute}`, actor: 'user', accountId: 'acct-2' });
      await harness.events.append({ at: at(16), type: 'other-account', actor: 'user', accountId: 'acct-3' });
      expect(typesOf(await harness.events.forAccount('acct-2', everything))).toEqual(['t14', 't13', 't12', 't11', 't10']);
      expect(typesOf(await harness.events.forAccount('acct-2', { since: new Date(0), limit: 2 }))).toEqual(['t14', 't13']);
      expect(typesOf(await harness.events.forAccount('acct-2', { since: at(12), limit: 100 }))).toEqual(['t14', 't13', 't12']);
      expect(await harness.events.forAccount('nobody', everything)).toEqual([]);
    });

    test('events of the same millisecond keep the order they were written in', async () => {
      for (const type of ['a', 'b', 'c', 'd']) await harness.events.append({ at: at(20), type, actor: 'user', accountId: 'acct-4' });
      expect(typesOf(await harness.events.forAccount('acct-4', everything))).toEqual(['d', 'c', 'b', 'a']);
    });

    test("an app's events: administrators' changes to it and sign-ins into it", async () => {
      await harness.events.append({ at: at(30), type: 'admin.client_disabled', actor: 'admin', clientId: 'crm' });
      await harness.events.append({ at: at(31), type: 'login.succeeded', actor: 'user', clientId: 'crm', accountId: 'acct-5' });
      expect(typesOf(await harness.events.forClient('crm', everything))).toEqual(['login.succeeded', 'admin.client_disabled']);
    });

    test("deleting an account's events leaves everyone else's", async () => {
      expect(await harness.events.deleteAccount('acct-2')).toBe(5);
      expect(await harness.events.forAccount('acct-2', everything)).toEqual([]);
      expect(typesOf(await harness.events.forAccount('acct-3', everything))).toEqual(['other-account']);
    });

    test('a purge deletes what is older than its cut-off, and only that', async () => {
      await harness.events.append({ at: at(-60 * 24 * 400), type: 'ancient', actor: 'user', accountId: 'acct-6' });
      await harness.events.append({ at: at(40), type: 'recent', actor: 'user', accountId: 'acct-6' });
      expect(await harness.events.purge(at(-1))).toBe(1);
      expect(typesOf(await harness.events.forAccount('acct-6', everything))).toEqual(['recent']);
      expect(await harness.events.purge(at(-1))).toBe(0);
    });
  });
}

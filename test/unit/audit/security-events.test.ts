import { describe, expect, test } from '@jest/globals';
import { createSecurityEvents, type RecordedEvent } from '../../../src/audit/security-events.ts';
import { createLogger } from '../../../src/logging/create-logger.ts';
import { runInRequestScope } from '../../../src/logging/request-scope.ts';
import { createMemorySecurityEventStore } from '../../../src/storage/memory/memory-security-event-store.ts';
import type { SecurityEventStore } from '../../../src/storage/ports.ts';

const DAY = 24 * 60 * 60 * 1000;

/** The recorder: what it keeps, for how long, and what it says when it cannot keep something. */
describe('security events', () => {
  const setup = (store: SecurityEventStore = createMemorySecurityEventStore()) => {
    let now = Date.UTC(2030, 0, 1);
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const events = createSecurityEvents({ store, logger, retentionDays: 30, now: () => now });
    return { events, store, lines, advance: (ms: number) => (now += ms) };
  };
  const inRequest = <T>(work: () => T) =>
    runInRequestScope({ requestId: 'req-7', ip: '198.51.100.7', userAgent: 'agent/1.0', clientId: 'shop', atEnd: [] }, work);

  test("inside a request: the request's id, address, device and app are kept and logged; the actor is the person", async () => {
    const { events, lines } = setup();
    await inRequest(() => events.record('login.failed', { accountId: 'a1', details: { reason: 'invalid' } }));
    expect(await events.ofAccount('a1')).toEqual([
      expect.objectContaining({
        type: 'login.failed',
        actor: 'user',
        accountId: 'a1',
        clientId: 'shop',
        ip: '198.51.100.7',
        userAgent: 'agent/1.0',
        requestId: 'req-7',
        details: { reason: 'invalid' },
      }),
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        event: 'login.failed',
        requestId: 'req-7',
        clientId: 'shop',
        accountId: 'a1',
        reason: 'invalid',
      }),
    ]);
  });

  test('outside a request (an admin tool) the actor is an administrator; an event naming no account is logged, not kept', async () => {
    const { events, store, lines } = setup();
    const heard: RecordedEvent[] = [];
    events.subscribe((event) => heard.push(event));
    await events.record('admin.account_disabled', { accountId: 'a2' });
    await inRequest(() => events.record('registration.throttled', { details: { retryAfter: 60 } }));
    expect(await events.ofAccount('a2')).toEqual([expect.objectContaining({ type: 'admin.account_disabled', actor: 'admin' })]);
    expect(await store.forClient('shop', { since: new Date(0), limit: 10 })).toEqual([]);
    expect(lines.map((line) => line.event)).toEqual(['admin.account_disabled', 'registration.throttled']);
    expect(heard.map((event) => [event.type, event.actor])).toEqual([
      ['admin.account_disabled', 'admin'],
      ['registration.throttled', 'user'],
    ]);
  });

  test('events older than the retention period are never listed, and are deleted after a later write', async () => {
    const { events, store, advance } = setup();
    await events.record('login.succeeded', { accountId: 'a3' });
    advance(31 * DAY);
    expect(await events.ofAccount('a3')).toEqual([]);
    await events.record('login.succeeded', { accountId: 'a4' });
    // The purge runs in the background after the write.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await store.forAccount('a3', { since: new Date(0), limit: 10 })).toEqual([]);
    expect(await events.ofAccount('a4')).toHaveLength(1);
  });

  test('a store that fails loses the event, not the action: record resolves and says so in the log', async () => {
    const broken: SecurityEventStore = { ...createMemorySecurityEventStore(), append: () => Promise.reject(new Error('MongoDB is down')) };
    const { events, lines } = setup(broken);
    await expect(events.record('account.password_changed', { accountId: 'a5' })).resolves.toBeUndefined();
    expect(lines.map((line) => line.event)).toEqual(['account.password_changed', 'security_event.not_stored']);
  });

  test('a long User-Agent is kept to 512 characters', async () => {
    const { events } = setup();
    await runInRequestScope({ requestId: 'r', ip: '::1', userAgent: 'x'.repeat(5000), atEnd: [] }, () =>
      events.record('login.succeeded', { accountId: 'a6' }),
    );
    expect((await events.ofAccount('a6'))[0]?.userAgent).toHaveLength(512);
  });
});

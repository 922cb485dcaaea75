import { expect, test } from '@jest/globals';
import { createMemorySecurityEventStore } from '../../src/storage/memory/memory-security-event-store.ts';
import { describeSecurityEventStoreContract } from './security-event-store.contract.ts';

describeSecurityEventStoreContract('memory', async () => ({ events: createMemorySecurityEventStore(), close: async () => {} }));

test('the in-process store keeps at most maxEvents, dropping the oldest first', async () => {
  const events = createMemorySecurityEventStore({ maxEvents: 3 });
  for (let index = 0; index < 5; index += 1) await events.append({ at: new Date(index), type: `e${index}`, actor: 'user', accountId: 'a' });
  const kept = await events.forAccount('a', { since: new Date(0), limit: 10 });
  expect(kept.map((event) => event.type)).toEqual(['e4', 'e3', 'e2']);
});

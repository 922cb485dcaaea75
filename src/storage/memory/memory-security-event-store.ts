import { newEventId } from '../event-id.ts';
import type { SecurityEventStore, StoredSecurityEvent } from '../ports.ts';

/**
 * Security events in process memory (embedded mode and tests), the same semantics as MongoDB. At
 * most `maxEvents` are kept, the oldest going first, so a flood of failed sign-ins cannot grow the
 * process without bound.
 */
export function createMemorySecurityEventStore({ maxEvents = 10_000 }: { maxEvents?: number } = {}): SecurityEventStore {
  /** Oldest first: appends come in time order. */
  let events: StoredSecurityEvent[] = [];
  const newest = (match: (event: StoredSecurityEvent) => boolean, { since, limit }: { since: Date; limit: number }) => {
    const found: StoredSecurityEvent[] = [];
    for (let index = events.length - 1; index >= 0 && found.length < limit; index -= 1) {
      const event = events[index];
      if (event && match(event) && event.at >= since) found.push(structuredClone(event));
    }
    return found;
  };
  const remove = (match: (event: StoredSecurityEvent) => boolean) => {
    const before = events.length;
    events = events.filter((event) => !match(event));
    return before - events.length;
  };
  return {
    async append(event) {
      events.push(structuredClone({ id: newEventId(event.at), ...event }));
      if (events.length > maxEvents) events.splice(0, events.length - maxEvents);
    },
    forAccount: async (accountId, options) => newest((event) => event.accountId === accountId, options),
    forClient: async (clientId, options) => newest((event) => event.clientId === clientId, options),
    purge: async (before) => remove((event) => event.at < before),
    deleteAccount: async (accountId) => remove((event) => event.accountId === accountId),
  };
}

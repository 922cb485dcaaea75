import { EventEmitter } from 'node:events';
import type { ClientChangeFeed } from '../ports.ts';

/**
 * Client changes within one process: feeds made from one bus hear each other's changes, like
 * instances sharing a Redis. For tests of the client cache and for the in-process stores.
 */
export function createMemoryClientChangeBus(): { feed(): ClientChangeFeed } {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  return {
    feed() {
      let listening: ((clientId: string) => void) | undefined;
      return {
        async publish(clientId) {
          bus.emit('changed', clientId);
        },
        async subscribe(listener) {
          listening = (clientId) => listener(clientId);
          bus.on('changed', listening);
        },
        isLive: () => listening !== undefined,
        async close() {
          if (listening) bus.off('changed', listening);
          listening = undefined;
        },
      };
    },
  };
}

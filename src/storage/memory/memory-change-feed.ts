import { EventEmitter } from 'node:events';
import type { ChangeFeed } from '../ports.ts';

/**
 * Changes within one process: feeds made from one bus hear each other's changes, like instances
 * sharing a Redis. For tests of the caches.
 */
export function createMemoryChangeBus(): { feed(): ChangeFeed } {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  return {
    feed() {
      let listening: ((id: string) => void) | undefined;
      return {
        async publish(id) {
          bus.emit('changed', id);
        },
        async subscribe(listener) {
          listening = (id) => listener(id);
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

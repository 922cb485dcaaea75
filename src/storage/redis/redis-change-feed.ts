import type { Redis } from 'ioredis';
import type { ChangeFeed } from '../ports.ts';
import { closeRedis } from './connect-redis.ts';

/**
 * Changes of one kind of record (`topic`: clients, users) over Redis pub/sub on
 * `<prefix><topic>:changed`. Publishing uses the shared
 * connection; subscribing needs a connection of its own (a subscribed connection runs no other
 * command), opened at the first subscribe. Whenever that connection drops, or comes back, the
 * listener hears `undefined` (anything may have been missed) and the feed is not live until the
 * subscription is confirmed again.
 */
export function createRedisChangeFeed(redis: Redis, prefix: string, topic: 'clients' | 'users'): ChangeFeed {
  const channel = `${prefix}${topic}:changed`;
  let subscriber: Redis | undefined;
  let live = false;
  return {
    async publish(id) {
      await redis.publish(channel, id);
    },
    async subscribe(listener) {
      if (subscriber) throw new Error(`${topic} change feed: one subscriber per feed`);
      const connection = redis.duplicate({ autoResubscribe: false, lazyConnect: true });
      subscriber = connection;
      connection.on('error', () => {
        // Reconnection is ioredis's job; 'close' below makes the feed not live meanwhile.
      });
      connection.on('message', (_channel: string, id: string) => listener(id));
      connection.on('close', () => {
        live = false;
        listener(undefined);
      });
      await connection.connect();
      await connection.subscribe(channel);
      live = true;
      // After a reconnect, subscribe again; only a confirmed subscription makes the feed live.
      connection.on('ready', () => {
        connection.subscribe(channel).then(
          () => {
            listener(undefined);
            live = true;
          },
          () => {},
        );
      });
    },
    isLive: () => live,
    async close() {
      live = false;
      if (subscriber) await closeRedis(subscriber);
    },
  };
}

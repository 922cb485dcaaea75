import type { Redis } from 'ioredis';
import type { ClientChangeFeed } from '../ports.ts';
import { closeRedis } from './connect-redis.ts';

/**
 * Client changes over Redis pub/sub on `<prefix>clients:changed`. Publishing uses the shared
 * connection; subscribing needs a connection of its own (a subscribed connection runs no other
 * command), opened at the first subscribe. Whenever that connection drops, or comes back, the
 * listener hears `undefined` (anything may have been missed) and the feed is not live until the
 * subscription is confirmed again.
 */
export function createRedisClientChangeFeed(redis: Redis, prefix: string): ClientChangeFeed {
  const channel = `${prefix}clients:changed`;
  let subscriber: Redis | undefined;
  let live = false;
  return {
    async publish(clientId) {
      await redis.publish(channel, clientId);
    },
    async subscribe(listener) {
      if (subscriber) throw new Error('client change feed: one subscriber per feed');
      const connection = redis.duplicate({ autoResubscribe: false, lazyConnect: true });
      subscriber = connection;
      connection.on('error', () => {
        // Reconnection is ioredis's job; 'close' below makes the feed not live meanwhile.
      });
      connection.on('message', (_channel: string, clientId: string) => listener(clientId));
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

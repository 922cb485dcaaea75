import type { Redis } from 'ioredis';
import type { ChangeFeed } from '../ports.ts';
import { closeRedis, openSubscriber, type RedisClient } from './connect-redis.ts';

/** How long to wait before subscribing again after the subscriber connection ended (ms), growing to the last. */
const RESUBSCRIBE_DELAYS_MS = [50, 200, 500, 1000, 2000];

/**
 * Changes of one kind of record (`topic`: clients, users) over Redis pub/sub on
 * `<prefix><topic>:changed`. Publishing uses the shared client; subscribing needs a connection of
 * its own (a subscribed connection runs no other command), opened at the first subscribe. Whenever
 * that connection ends, the listener hears `undefined` (anything may have been missed) and the feed
 * is not live; a new connection is then opened (through the sentinels to the current primary, or
 * to another Cluster node) and the feed is live again once its subscription is confirmed, when the
 * listener hears `undefined` once more. Classic pub/sub reaches every node of a Cluster, so the
 * same channel works on every topology.
 */
export function createRedisChangeFeed(redis: RedisClient, prefix: string, topic: 'clients' | 'users'): ChangeFeed {
  const channel = `${prefix}${topic}:changed`;
  let listener: ((id: string | undefined) => void) | undefined;
  let subscriber: Redis | undefined;
  let live = false;
  let closed = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;

  /** Opens a subscriber connection and subscribes; rejects when either fails. */
  const connect = async (): Promise<void> => {
    if (closed) return;
    const connection = openSubscriber(redis, channel.replace(/\s/g, '_'));
    subscriber = connection;
    connection.on('error', () => {
      // Reported by 'end' below, which opens a new connection.
    });
    connection.on('message', (_channel: string, id: string) => listener?.(id));
    connection.once('end', () => {
      const wasLive = live;
      live = false;
      if (subscriber === connection) subscriber = undefined;
      if (wasLive) listener?.(undefined);
      scheduleReconnect();
    });
    await connection.connect();
    await connection.subscribe(channel);
    if (closed || subscriber !== connection) return;
    failures = 0;
    live = true;
  };

  const scheduleReconnect = () => {
    if (closed || retry) return;
    const delay = RESUBSCRIBE_DELAYS_MS[Math.min(failures, RESUBSCRIBE_DELAYS_MS.length - 1)];
    failures += 1;
    retry = setTimeout(() => {
      retry = undefined;
      connect().then(
        // Changes made while no subscription was up were missed: every cached record is suspect.
        () => listener?.(undefined),
        () => {
          // The failed connection's 'end' schedules the next attempt; one that never opened does not.
          if (!subscriber) scheduleReconnect();
          else subscriber.disconnect();
        },
      );
    }, delay);
    retry.unref();
  };

  return {
    async publish(id) {
      await redis.publish(channel, id);
    },
    async subscribe(onChange) {
      if (listener) throw new Error(`${topic} change feed: one subscriber per feed`);
      listener = onChange;
      try {
        await connect();
      } catch (error) {
        // The owner gives up on this feed; nothing may keep reconnecting in the background.
        closed = true;
        listener = undefined;
        subscriber?.disconnect();
        throw error;
      }
    },
    isLive: () => live,
    async close() {
      closed = true;
      live = false;
      clearTimeout(retry);
      if (subscriber) await closeRedis(subscriber);
    },
  };
}

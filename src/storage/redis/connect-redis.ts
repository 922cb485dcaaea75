import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisNode, RedisTopology } from '../../config/redis-topology.ts';
import { redactUrl } from '../redact-url.ts';
import { withTimeout } from '../with-timeout.ts';

/** One Redis, a Sentinel-managed primary (both `Redis` in ioredis) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;
/** A connection to one Redis server, as `connectRedis(url)` opens it. */
export type RedisConnection = Redis;

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/*
 * What every connection shares. A command whose reply is lost with its connection is not sent
 * again after the reconnect (autoResendUnfulfilledCommands: false): it may already have run (a
 * consumed code, a counted attempt), and running it twice would give a wrong answer where an error
 * gives a clean 503. Commands not yet sent wait for the reconnect, and fail after two attempts
 * (maxRetriesPerRequest), so a request never hangs on a Redis that is gone.
 */
const SHARED: RedisOptions = {
  maxRetriesPerRequest: 2,
  autoResendUnfulfilledCommands: false,
  // How long a closing socket may linger; a dead one otherwise keeps the process alive for 2 s.
  disconnectTimeout: 500,
};

/**
 * After a Sentinel failover the old primary may come back as a replica while a connection still
 * points at it: its writes then fail with READONLY. Reconnecting (through the sentinels, which name
 * the new primary) and sending the command again is safe, since a refused write did not run.
 * https://github.com/redis/ioredis#reconnect-on-error
 */
function reconnectOnReadOnly(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

function auth(topology: RedisTopology): Pick<RedisOptions, 'username' | 'password'> {
  return {
    ...(topology.username ? { username: topology.username } : {}),
    ...(topology.password ? { password: topology.password } : {}),
  };
}

/**
 * A command was written to a connection that closed before its reply came: it may or may not have
 * run. Redis is unavailable for the request (a clean 503), and the command is not sent again.
 */
export class ConnectionLostError extends Error {
  constructor() {
    super('Connection lost before the reply came');
    this.name = 'ConnectionLostError';
  }
}

/**
 * Ends every command still waiting for its reply when the connection closes, with a
 * ConnectionLostError. Without this, ioredis 5 (with autoResendUnfulfilledCommands off) drops
 * those commands at the reconnect and leaves their promises pending for ever, so the request hangs;
 * a Cluster node instead fails them as "Connection is closed", which the Cluster client sends again
 * elsewhere though they may have run. The listener goes before ioredis's own on each new socket, so
 * the queue it finds is empty; commands not yet written stay in the offline queue and are sent after
 * the reconnect, as before. Only a ready connection is touched: before that its queue holds nothing
 * but ioredis's own set-up (AUTH, the ready check), which ioredis deals with itself, and failing it
 * would fail the offline queue too. Each command gets an error of its own: ioredis and slot-writes.ts
 * attach a transaction's earlier errors to the error they receive.
 */
function withInFlightFailed(connection: Redis): Redis {
  connection.on('connect', () => {
    const { stream, commandQueue } = connection;
    stream.prependOnceListener('close', () => {
      if (connection.commandQueue !== commandQueue || connection.status !== 'ready') return;
      for (let item = commandQueue.shift(); item; item = commandQueue.shift()) item.command.reject(new ConnectionLostError());
    });
  });
  return connection;
}

/** A new, not yet connected client for the topology (ioredis's own Sentinel and Cluster support). */
function createClient(topology: RedisTopology, timeoutMs: number): RedisClient {
  const retryStrategy = (attempt: number) => Math.min(attempt * 200, 2000);
  switch (topology.kind) {
    case 'single':
      return withInFlightFailed(
        new Redis(topology.url, { ...SHARED, ...auth(topology), lazyConnect: true, connectTimeout: timeoutMs, retryStrategy }),
      );
    case 'sentinel':
      return withInFlightFailed(
        new Redis({
          ...SHARED,
          ...auth(topology),
          lazyConnect: true,
          connectTimeout: timeoutMs,
          retryStrategy,
          sentinels: topology.sentinels,
          name: topology.name,
          role: 'master',
          db: topology.db,
          ...(topology.sentinelPassword ? { sentinelPassword: topology.sentinelPassword } : {}),
          ...(topology.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
          sentinelRetryStrategy: retryStrategy,
          reconnectOnError: reconnectOnReadOnly,
        }),
      );
    case 'cluster': {
      const options: ClusterOptions = {
        lazyConnect: true,
        // Reads go to the primaries too: a replica may lag, and a consumed code or a revoked token
        // read from a lagging replica would be a wrong answer.
        scaleReads: 'master',
        clusterRetryStrategy: retryStrategy,
        slotsRefreshTimeout: Math.min(timeoutMs, 2000),
        redisOptions: { ...SHARED, ...auth(topology), connectTimeout: timeoutMs, ...(topology.tls ? { tls: {} } : {}) },
      };
      const cluster = new Cluster(topology.nodes, options);
      cluster.on('+node', (node: Redis) => withInFlightFailed(node));
      return cluster;
    }
  }
}

/** Where the topology's Redis is, for messages: never a password. */
export function describeTopology(topology: RedisTopology): string {
  const list = (nodes: RedisNode[]) => nodes.map((node) => `${node.host}:${node.port}`).join(',');
  switch (topology.kind) {
    case 'single':
      return `Redis at ${redactUrl(topology.url)}`;
    case 'sentinel':
      return `the Redis primary "${topology.name}" through the sentinels ${list(topology.sentinels)}`;
    case 'cluster':
      return `the Redis Cluster at ${list(topology.nodes)}`;
  }
}

/**
 * Opens a client for one Redis (a URL), a Sentinel-managed primary or a Redis Cluster, and waits
 * until it answers. Rejects with one readable line instead of letting ioredis retry forever, so a
 * wrong setting stops the start-up.
 */
export async function connectRedis(url: string, options?: { timeoutMs?: number }): Promise<Redis>;
export async function connectRedis(topology: RedisTopology, options?: { timeoutMs?: number }): Promise<RedisClient>;
export async function connectRedis(target: string | RedisTopology, { timeoutMs = 5000 } = {}): Promise<RedisClient> {
  const topology: RedisTopology = typeof target === 'string' ? { kind: 'single', url: target } : target;
  const client = createClient(topology, timeoutMs);
  // After start-up, connection errors are retried by ioredis and reported by readiness; without a
  // listener they would be printed as unhandled 'error' events. The last one explains a failed start.
  let lastError: Error | undefined;
  client.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await withTimeout(client.connect(), timeoutMs);
    await withTimeout(client.ping(), timeoutMs);
    return client;
  } catch (error) {
    client.disconnect();
    throw new Error(`cannot connect to ${describeTopology(topology)} (${describe(lastError ?? error)})`, { cause: error });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A connection of its own for SUBSCRIBE (a subscribed connection runs no other command), not yet
 * connected, that does not reconnect by itself: its owner opens a new one when it ends. For one
 * Redis or a Sentinel primary it is a copy of the client's settings (a Sentinel copy asks the
 * sentinels for the primary again at each connect). For a Cluster it is a plain connection to one
 * of the nodes, a different one each time when several answer: Redis Cluster carries every PUBLISH
 * to every node, so any node hears every message.
 * https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#pubsub
 * `name` is the connection's name in Redis (CLIENT SETNAME), so `CLIENT LIST` tells whose it is.
 */
export function openSubscriber(client: RedisClient, name?: string): Redis {
  const own = {
    lazyConnect: true,
    autoResubscribe: false,
    retryStrategy: () => null,
    maxRetriesPerRequest: 1,
    ...(name ? { connectionName: name } : {}),
  };
  if (!isCluster(client)) return client.duplicate(own);
  const nodes = client.nodes('all');
  const node = nodes[Math.floor(Math.random() * nodes.length)];
  const redisOptions = client.options.redisOptions ?? {};
  if (!node) throw new Error('the Redis Cluster has no node to subscribe on');
  return new Redis({ ...redisOptions, ...own, host: node.options.host, port: node.options.port });
}

/** Closes politely (QUIT) when Redis answers, and drops the connection when it does not. */
export async function closeRedis(client: RedisClient, timeoutMs = 1000): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await withTimeout(client.quit(), timeoutMs);
  } catch {
    // unreachable or slow: nothing left to flush
  } finally {
    client.disconnect();
  }
}

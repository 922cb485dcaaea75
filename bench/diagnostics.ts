import { connectMongo } from '../src/storage/mongo/connect-mongo.ts';
import { closeRedis, connectRedis, type RedisConnection } from '../src/storage/redis/connect-redis.ts';

/**
 * What the backing services say about their own work, read from outside the server process, so a
 * benchmark can tell how many Redis commands and MongoDB operations one request costs without
 * instrumenting the server. It opens its own connections, through the server's own connectors.
 */
export interface BackendCounters {
  /** Redis INFO commandstats: calls per command (commands run inside Lua scripts included), summed over the primaries. */
  redisCalls: Record<string, number>;
  /** Redis INFO memory used_memory, bytes, summed over the primaries. */
  redisUsedMemory: number;
  /** Redis INFO stats total_net_input_bytes and total_net_output_bytes, summed over the primaries (replication included). */
  redisNetInputBytes: number;
  redisNetOutputBytes: number;
  /** MongoDB serverStatus metrics.commands: total per command, monitoring commands left out. */
  mongoCommands: Record<string, number>;
}

/** Commands drivers send to watch the server (heartbeats, handshakes) and our own probes. */
const MONGO_MONITORING = new Set([
  'hello',
  'ismaster',
  'isMaster',
  'ping',
  'serverStatus',
  'buildInfo',
  'buildinfo',
  'endSessions',
  'saslStart',
  'saslContinue',
  'getParameter',
]);
const REDIS_PROBES = new Set(['info', 'monitor', 'ping', 'client', 'select', 'quit', 'hello', 'scan', 'memory', 'cluster', 'readonly']);

export interface BackendProbe {
  read(): Promise<BackendCounters>;
  /**
   * The memory Redis says each kind of key takes (MEMORY USAGE, bytes, averaged over up to 200 keys
   * of each kind under `prefix`), by kind: the model (`Session`, `AccessToken`...) or the index
   * (`sessionUid`, `grant`, `account`).
   */
  memoryPerKey(prefix: string): Promise<Record<string, { keys: number; bytes: number }>>;
  /**
   * Records every command Redis runs until `stop`, to count round trips: a MULTI...EXEC block sent
   * by one connection is one round trip, a script is one round trip, and commands run inside a
   * script are not round trips at all. MONITOR slows Redis down, so only short samples use it.
   */
  monitorRedis(): Promise<{ stop(): Promise<RedisTrace> }>;
  close(): Promise<void>;
}

export interface RedisTrace {
  roundTrips: number;
  /** Round trips by their first command (MULTI for a transaction, EVALSHA for a script). */
  byCommand: Record<string, number>;
}

/**
 * A probe of the Redis primaries (one Redis, a Sentinel primary, or every primary of a Cluster,
 * each given by its URL) and of MongoDB.
 */
export async function openBackendProbe(redisUrls: string[], mongodbUri: string): Promise<BackendProbe> {
  const nodes: RedisConnection[] = [];
  try {
    for (const url of redisUrls) nodes.push(await connectRedis(url));
  } catch (error) {
    await Promise.allSettled(nodes.map((node) => closeRedis(node)));
    throw error;
  }
  const mongo = await connectMongo(mongodbUri).catch(async (error: unknown) => {
    await Promise.allSettled(nodes.map((node) => closeRedis(node)));
    throw error;
  });
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    async read() {
      const [infos, status] = await Promise.all([
        Promise.all(nodes.map((node) => Promise.all([node.info('commandstats'), node.info('memory'), node.info('stats')]))),
        mongo.db?.admin().command({ serverStatus: 1 }),
      ]);
      const redisCalls: Record<string, number> = {};
      for (const [commandstats] of infos) {
        for (const [command, count] of Object.entries(parseCommandstats(commandstats)))
          redisCalls[command] = (redisCalls[command] ?? 0) + count;
      }
      return {
        redisCalls,
        redisUsedMemory: sum(infos.map(([, memory]) => field(memory, 'used_memory'))),
        redisNetInputBytes: sum(infos.map(([, , stats]) => field(stats, 'total_net_input_bytes'))),
        redisNetOutputBytes: sum(infos.map(([, , stats]) => field(stats, 'total_net_output_bytes'))),
        mongoCommands: parseMongoCommands(status),
      };
    },
    async memoryPerKey(prefix) {
      const sizes: Record<string, number[]> = {};
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}oidc:*`, 'COUNT', 1000);
          cursor = next;
          for (const key of keys) {
            const kind = /oidc:([^:]+):/.exec(key.slice(prefix.length))?.[1] ?? 'other';
            const seen = sizes[kind] ?? [];
            sizes[kind] = seen;
            if (seen.length >= 200) continue;
            const bytes = await node.memory('USAGE', key);
            if (typeof bytes === 'number') seen.push(bytes);
          }
        } while (cursor !== '0');
      }
      return Object.fromEntries(
        Object.entries(sizes).map(([kind, values]) => [
          kind,
          { keys: values.length, bytes: values.length ? sum(values) / values.length : 0 },
        ]),
      );
    },
    async monitorRedis() {
      const trace: RedisTrace = { roundTrips: 0, byCommand: {} };
      const monitors = await Promise.all(
        nodes.map(async (node, index) => {
          const monitor = await node.monitor();
          const inTransaction = new Set<string>();
          monitor.on('monitor', (_time: string, args: string[], source: string) => {
            const command = (args[0] ?? '').toLowerCase();
            if (source === 'lua' || REDIS_PROBES.has(command)) return;
            // A client's address is unique per node; a transaction is counted on the node it ran on.
            const client = `${index} ${source}`;
            if (inTransaction.has(client)) {
              if (command === 'exec' || command === 'discard') inTransaction.delete(client);
              return;
            }
            if (command === 'multi') inTransaction.add(client);
            trace.roundTrips += 1;
            trace.byCommand[command] = (trace.byCommand[command] ?? 0) + 1;
          });
          return monitor;
        }),
      );
      return {
        async stop() {
          // MONITOR lines trail the commands a little; give the last ones time to arrive.
          await new Promise((resolve) => setTimeout(resolve, 200));
          for (const monitor of monitors) monitor.disconnect();
          return trace;
        },
      };
    },
    async close() {
      await Promise.allSettled([...nodes.map((node) => closeRedis(node)), mongo.close()]);
    },
  };
}

function parseCommandstats(text: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, command, count] = match;
    if (command && count && !REDIS_PROBES.has(command)) calls[command] = Number(count);
  }
  return calls;
}

function parseMongoCommands(status: unknown): Record<string, number> {
  const commands = (status as { metrics?: { commands?: Record<string, unknown> } } | undefined)?.metrics?.commands ?? {};
  const totals: Record<string, number> = {};
  for (const [name, value] of Object.entries(commands)) {
    if (MONGO_MONITORING.has(name)) continue;
    const total = (value as { total?: unknown } | null)?.total;
    // mongod reports Int64 values as objects with toNumber(); FerretDB as plain numbers.
    const count = typeof total === 'number' ? total : Number(total ?? 0);
    if (count > 0) totals[name] = count;
  }
  return totals;
}

/** Counter differences between two readings (after - before), zero entries dropped. */
export function counterDelta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    const difference = value - (before[name] ?? 0);
    if (difference !== 0) delta[name] = difference;
  }
  return delta;
}

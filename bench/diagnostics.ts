import { connectMongo } from '../src/storage/mongo/connect-mongo.ts';
import { closeRedis, connectRedis } from '../src/storage/redis/connect-redis.ts';

/**
 * What the backing services say about their own work, read from outside the server process, so a
 * benchmark can tell how many Redis commands and MongoDB operations one request costs without
 * instrumenting the server. It opens its own connections, through the server's own connectors.
 */
export interface BackendCounters {
  /** Redis INFO commandstats: calls per command (commands run inside Lua scripts included). */
  redisCalls: Record<string, number>;
  /** Redis INFO memory used_memory, bytes. */
  redisUsedMemory: number;
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
const REDIS_PROBES = new Set(['info', 'monitor', 'ping', 'client', 'select', 'quit', 'hello']);

export interface BackendProbe {
  read(): Promise<BackendCounters>;
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

export async function openBackendProbe(redisUrl: string, mongodbUri: string): Promise<BackendProbe> {
  const redis = await connectRedis(redisUrl);
  const mongo = await connectMongo(mongodbUri).catch(async (error: unknown) => {
    await closeRedis(redis);
    throw error;
  });
  return {
    async read() {
      const [commandstats, memory, status] = await Promise.all([
        redis.info('commandstats'),
        redis.info('memory'),
        mongo.db?.admin().command({ serverStatus: 1 }),
      ]);
      return {
        redisCalls: parseCommandstats(commandstats),
        redisUsedMemory: Number(/^used_memory:(\d+)/m.exec(memory)?.[1] ?? Number.NaN),
        mongoCommands: parseMongoCommands(status),
      };
    },
    async monitorRedis() {
      const monitor = await redis.monitor();
      const inTransaction = new Set<string>();
      const trace: RedisTrace = { roundTrips: 0, byCommand: {} };
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        const command = (args[0] ?? '').toLowerCase();
        if (source === 'lua' || REDIS_PROBES.has(command)) return;
        if (inTransaction.has(source)) {
          if (command === 'exec' || command === 'discard') inTransaction.delete(source);
          return;
        }
        if (command === 'multi') inTransaction.add(source);
        trace.roundTrips += 1;
        trace.byCommand[command] = (trace.byCommand[command] ?? 0) + 1;
      });
      return {
        async stop() {
          // MONITOR lines trail the commands a little; give the last ones time to arrive.
          await new Promise((resolve) => setTimeout(resolve, 200));
          monitor.disconnect();
          return trace;
        },
      };
    },
    async close() {
      await Promise.allSettled([closeRedis(redis), mongo.close()]);
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

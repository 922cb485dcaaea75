import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisTopology } from '../../src/config/redis-topology.ts';
import { freePort } from './local-services.ts';
import { acceptsConnections, type ManagedProcess, runToExit, spawnProcess, waitUntilReady } from './processes.ts';

/**
 * A Redis Cluster and a Sentinel-managed primary with replicas, from Debian's redis-server, on free
 * loopback ports, for the tests and the benchmark. Nothing persists (no RDB, no AOF): the data
 * lives as long as the processes. Failure detection is fast (one second) so a failover test is
 * short; production keeps Redis's defaults or its own tuning.
 */

/** One redis-server process of a topology (a data node or a sentinel). */
export interface RedisProcess {
  port: number;
  /** host:port */
  address: string;
  pid: number | undefined;
  /** Stops it: SIGTERM by default, SIGKILL to play a crash. Resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  readonly stopped: boolean;
}

export interface LocalRedisTopology {
  topology: RedisTopology;
  /** The server's environment variables naming this Redis. */
  env: Record<string, string>;
  /** Every process, for CPU and memory readings. */
  processes(): RedisProcess[];
  stop(): Promise<void>;
}

export interface LocalRedisCluster extends LocalRedisTopology {
  nodes: RedisProcess[];
  /** The nodes that are primaries now, by asking a live node. */
  masters(): Promise<RedisProcess[]>;
}

export interface LocalRedisSentinel extends LocalRedisTopology {
  name: string;
  dataNodes: RedisProcess[];
  sentinels: RedisProcess[];
  /** The data node the sentinels name as primary now. */
  primary(): Promise<RedisProcess>;
  /** Resolves once every sentinel knows every replica and every other sentinel: a failover can happen. */
  awaitFailoverReady(timeoutMs?: number): Promise<void>;
}

// No persistence, and a replica's first sync starts at once (diskless sync otherwise waits 5 s for more replicas).
const NODE_ARGS = ['--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0'];

async function startRedisProcess(name: string, args: string[], dir: string, port: number): Promise<RedisProcess> {
  const managed: ManagedProcess = spawnProcess('redis-server', args, { name, cwd: dir, ifMissing: 'run scripts/test-deps.sh' });
  let stopped = false;
  const handle: RedisProcess = {
    port,
    address: `127.0.0.1:${port}`,
    pid: managed.pid,
    async stop(signal = 'SIGTERM') {
      stopped = true;
      await managed.stop({ signal, killAfterMs: 3000 });
    },
    get stopped() {
      return stopped;
    },
  };
  try {
    await waitUntilReady(managed, acceptsConnections(port), { timeoutMs: 20_000, intervalMs: 50 });
  } catch (error) {
    await handle.stop('SIGKILL');
    throw error;
  }
  return handle;
}

/** Runs redis-cli against a port and returns its output; rejects with its output when it fails. */
export async function redisCli(port: number, args: string[], timeoutMs = 10_000): Promise<string> {
  const result = await runToExit('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeoutMs });
  if (result.code !== 0 || /^(ERR|Could not connect)/m.test(result.stdout)) {
    throw new Error(`redis-cli -p ${port} ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} within ${timeoutMs} ms${last instanceof Error ? ` (${last.message})` : ''}`);
}

async function stopAll(processes: RedisProcess[], dir: string): Promise<void> {
  await Promise.allSettled(processes.filter((process) => !process.stopped).map((process) => process.stop()));
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A Redis Cluster of `masters` primaries, each with `replicasPerMaster` replicas, created with
 * `redis-cli --cluster create`; resolves once every node says the cluster is ok and every replica
 * is in sync with its primary.
 */
export async function startRedisCluster({ masters = 3, replicasPerMaster = 1, nodeTimeoutMs = 1000 } = {}): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'idp-redis-cluster-'));
  const nodes: RedisProcess[] = [];
  try {
    const ports = await Promise.all(Array.from({ length: masters * (1 + replicasPerMaster) }, () => freePort()));
    nodes.push(
      ...(await Promise.all(
        ports.map((port) =>
          startRedisProcess(
            `redis-server (cluster node ${port})`,
            [
              '--port',
              String(port),
              '--bind',
              '127.0.0.1',
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              `nodes-${port}.conf`,
              '--cluster-node-timeout',
              String(nodeTimeoutMs),
              '--dir',
              dir,
              ...NODE_ARGS,
            ],
            dir,
            port,
          ),
        ),
      )),
    );
    await runToExit(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((node) => node.address), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
      { timeoutMs: 60_000 },
    ).then((result) => {
      if (result.code !== 0) throw new Error(`redis-cli --cluster create failed:\n${result.stdout}${result.stderr}`);
    });
    await until(
      'the Redis Cluster was not ok on every node, with every replica in sync',
      async () => {
        for (const node of nodes) {
          if (!(await redisCli(node.port, ['cluster', 'info'])).includes('cluster_state:ok')) return false;
          const replication = await redisCli(node.port, ['info', 'replication']);
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
        }
        return true;
      },
      30_000,
    );
  } catch (error) {
    await stopAll(nodes, dir);
    throw error;
  }
  const addresses = nodes.map((node) => node.address).join(',');
  return {
    nodes,
    topology: { kind: 'cluster', nodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })), tls: false },
    env: { REDIS_CLUSTER_NODES: addresses },
    processes: () => nodes,
    async masters() {
      const live = nodes.find((node) => !node.stopped);
      if (!live) return [];
      const listing = await redisCli(live.port, ['cluster', 'nodes']);
      // <id> <ip:port@bus-port> <flags> ...; flags such as myself,master or master,fail
      const masterPorts = listing
        .split('\n')
        .filter((line) => {
          const flags = line.split(' ')[2]?.split(',') ?? [];
          return flags.includes('master') && !flags.some((flag) => flag.startsWith('fail'));
        })
        .map((line) => Number(/:(\d+)@/.exec(line)?.[1]));
      return nodes.filter((node) => masterPorts.includes(node.port));
    },
    stop: () => stopAll(nodes, dir),
  };
}

/**
 * A primary with `replicas` replicas, watched by `sentinels` sentinels (quorum: a majority) under
 * the name `name`. Resolves once the replicas are in sync; awaitFailoverReady waits until the
 * sentinels could also carry out a failover.
 */
export async function startRedisSentinel({
  replicas = 1,
  sentinels: sentinelCount = 3,
  name = 'idp-primary',
  downAfterMs = 1000,
  failoverTimeoutMs = 5000,
} = {}): Promise<LocalRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'idp-redis-sentinel-'));
  const dataNodes: RedisProcess[] = [];
  const sentinels: RedisProcess[] = [];
  const dataArgs = (port: number) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--dbfilename',
    `dump-${port}.rdb`,
    ...NODE_ARGS,
  ];
  try {
    const primaryPort = await freePort();
    dataNodes.push(await startRedisProcess(`redis-server (primary ${primaryPort})`, dataArgs(primaryPort), dir, primaryPort));
    const replicaPorts = await Promise.all(Array.from({ length: replicas }, () => freePort()));
    dataNodes.push(
      ...(await Promise.all(
        replicaPorts.map((port) =>
          startRedisProcess(
            `redis-server (replica ${port})`,
            [...dataArgs(port), '--replicaof', '127.0.0.1', String(primaryPort)],
            dir,
            port,
          ),
        ),
      )),
    );
    const quorum = Math.floor(sentinelCount / 2) + 1;
    const sentinelPorts = await Promise.all(Array.from({ length: sentinelCount }, () => freePort()));
    sentinels.push(
      ...(await Promise.all(
        sentinelPorts.map((port) => {
          // Sentinel rewrites its configuration file (what it learns), so each has its own.
          const file = join(dir, `sentinel-${port}.conf`);
          writeFileSync(
            file,
            [
              `port ${port}`,
              'bind 127.0.0.1',
              `dir ${dir}`,
              `sentinel monitor ${name} 127.0.0.1 ${primaryPort} ${quorum}`,
              `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
              `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
              `sentinel parallel-syncs ${name} 1`,
              '',
            ].join('\n'),
          );
          return startRedisProcess(`redis-sentinel ${port}`, [file, '--sentinel'], dir, port);
        }),
      )),
    );
    await until(
      'the replicas were not in sync with the primary',
      async () => {
        for (const node of dataNodes.slice(1)) {
          if (!(await redisCli(node.port, ['info', 'replication'])).includes('master_link_status:up')) return false;
        }
        return true;
      },
      20_000,
    );
  } catch (error) {
    await stopAll([...sentinels, ...dataNodes], dir);
    throw error;
  }
  const primary = async () => {
    const live = sentinels.find((sentinel) => !sentinel.stopped);
    if (!live) throw new Error('no sentinel is running');
    const [, port] = (await redisCli(live.port, ['sentinel', 'get-master-addr-by-name', name])).trim().split('\n');
    const node = dataNodes.find((candidate) => candidate.port === Number(port));
    if (!node) throw new Error(`the sentinels name an unknown primary (port ${port})`);
    return node;
  };
  return {
    name,
    dataNodes,
    sentinels,
    topology: {
      kind: 'sentinel',
      sentinels: sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
      name,
      db: 0,
      tls: false,
    },
    env: { REDIS_SENTINELS: sentinels.map((sentinel) => sentinel.address).join(','), REDIS_SENTINEL_NAME: name },
    processes: () => [...dataNodes, ...sentinels],
    primary,
    async awaitFailoverReady(timeoutMs = 20_000) {
      await until(
        'the sentinels did not all know every replica and each other',
        async () => {
          for (const sentinel of sentinels.filter((candidate) => !candidate.stopped)) {
            const known = await redisCli(sentinel.port, ['sentinel', 'replicas', name]);
            const others = await redisCli(sentinel.port, ['sentinel', 'sentinels', name]);
            const replicasKnown = (known.match(/^flags\n(slave)$/gm) ?? []).length;
            const sentinelsKnown = (others.match(/^flags\n(sentinel)$/gm) ?? []).length;
            if (replicasKnown < dataNodes.length - 1 || sentinelsKnown < sentinels.length - 1) return false;
          }
          return true;
        },
        timeoutMs,
      );
    },
    stop: () => stopAll([...sentinels, ...dataNodes], dir),
  };
}

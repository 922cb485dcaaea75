import { closeSync, openSync, readFileSync, truncateSync } from 'node:fs';
import { answersOk, spawnProcess, waitUntilReady } from '../scripts/lib/processes.ts';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we run on). */
const CLOCK_TICKS = 100;

/** CPU time (ms, user + system) and resident memory (bytes) of a process, from /proc. */
export interface ProcessSample {
  cpuMs: number;
  rssBytes: number;
}

export function sampleProcess(pid: number): ProcessSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return { cpuMs: (ticks * 1000) / CLOCK_TICKS, rssBytes: rssKib * 1024 };
}

/** The children of a process (the workers of IDP_WORKERS), from /proc. */
function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** The processes whose CPU a run reports: the server (with its workers, if any), and the Redis and MongoDB-wire servers it uses. */
export interface Watched {
  server: number;
  backends: number[];
}

/** CPU use over a run, in % of one core: the server, its backends, and this process (the load generator). */
export interface CpuUse {
  wallMs: number;
  serverCpu: number;
  backendCpu: number;
  generatorCpu: number;
}

export function startCpuMeter(watched: Watched): { stop(): CpuUse } {
  const cpu = (pids: number[]) => pids.reduce((total, pid) => total + sampleProcess(pid).cpuMs, 0);
  // With IDP_WORKERS the server is a supervisor and its workers do the work: count them all.
  const serverPids = [watched.server, ...childrenOf(watched.server)];
  const server = cpu(serverPids);
  const backends = cpu(watched.backends);
  const generator = process.cpuUsage();
  const started = performance.now();
  return {
    stop() {
      const wallMs = performance.now() - started;
      const own = process.cpuUsage(generator);
      const percent = (ms: number) => (ms / wallMs) * 100;
      return {
        wallMs,
        serverCpu: percent(cpu(serverPids.filter(isAlive)) - server),
        backendCpu: percent(cpu(watched.backends) - backends),
        generatorCpu: percent((own.user + own.system) / 1000),
      };
    },
  };
}

/** Resolves with the process's children once there are `count` of them (the workers of IDP_WORKERS). */
export async function waitForChildren(pid: number, count: number, timeoutMs = 30_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const children = childrenOf(pid);
    if (children.length >= count) return children;
    if (Date.now() > deadline) throw new Error(`${count} workers expected, ${children.length} running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface NodeServer {
  name: string;
  pid: number;
  /** The address requests go to (plain http; the load generator plays the TLS proxy). */
  wireUrl: string;
  /** Milliseconds from spawn to the first successful readiness answer. */
  readyMs: number;
  /** The server's output so far (stdout and stderr go to one file, truncated between phases). */
  log(): string;
  truncateLog(): void;
  stop(): Promise<void>;
}

/**
 * Spawns `node <script>` with exactly `env` and waits until `readyPath` answers 200. Output goes to
 * a file rather than a pipe, so reading it costs the load generator's process nothing.
 */
export async function startNodeServer(options: {
  name: string;
  script: string;
  env: Record<string, string>;
  port: number;
  readyPath: string;
  logFile: string;
  cwd: string;
}): Promise<NodeServer> {
  const fd = openSync(options.logFile, 'a');
  const started = performance.now();
  const server = spawnProcess(process.execPath, [options.script], {
    name: options.name,
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    output: fd,
  });
  closeSync(fd);
  const log = () => readFileSync(options.logFile, 'utf8');
  const wireUrl = `http://127.0.0.1:${options.port}`;
  try {
    await waitUntilReady(server, answersOk(`${wireUrl}${options.readyPath}`), {
      timeoutMs: 30_000,
      intervalMs: 5,
      describeOutput: () => log().slice(-4000),
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  const readyMs = performance.now() - started;
  if (server.pid === undefined) throw new Error(`${options.name} has no process id`);
  return {
    name: options.name,
    pid: server.pid,
    wireUrl,
    readyMs,
    log,
    truncateLog: () => truncateSync(options.logFile, 0),
    stop: async () => {
      await server.stop();
    },
  };
}

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptsConnections, spawnProcess, waitUntilReady } from './processes.ts';

/**
 * Private redis-server and MongoDB-wire servers on free ports, for the test suite (jest's global
 * setup) and the benchmark alike, so both run against servers provisioned the same way
 * (scripts/test-deps.sh installs them).
 */

/** A server process started for a test or benchmark run. */
export interface TestService {
  name: string;
  url: string;
  /** Its process id, so a benchmark can read its CPU time and memory from /proc. */
  pid: number | undefined;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FERRETDB_BIN = join(ROOT, '.tools/bin/ferretdb');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts a server in `dir` and waits until it accepts connections; on failure nothing is left running. */
export async function startServer(
  name: string,
  command: string,
  args: string[],
  port: number,
  dir: string,
): Promise<Pick<TestService, 'pid' | 'stop'>> {
  const server = spawnProcess(command, args, { name, cwd: dir, ifMissing: 'run scripts/test-deps.sh' });
  const stop = async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(server, acceptsConnections(port), { timeoutMs: 20_000, intervalMs: 100 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: server.pid, stop };
}

/** A private redis-server on a free port (or `port`, e.g. to bring one back), with no persistence. */
export async function startRedis({ port = 0 }: { port?: number } = {}): Promise<TestService> {
  port ||= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'idp-redis-'));
  const server = await startServer(
    'redis-server',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    port,
    dir,
  );
  return { name: 'redis', url: `redis://127.0.0.1:${port}`, ...server };
}

/** A private MongoDB-wire server, on a free port or `port`: mongod when installed, else FerretDB over SQLite in a temp dir. */
export async function startMongo({ port = 0 }: { port?: number } = {}): Promise<TestService> {
  port ||= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'idp-mongo-'));
  const server = existsSync(FERRETDB_BIN)
    ? await startServer('FerretDB', FERRETDB_BIN, ['-listen-addr', `127.0.0.1:${port}`, '-sqlite-dir', dir, '-exit-with-parent'], port, dir)
    : await startServer('mongod', 'mongod', ['--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', dir], port, dir);
  return { name: 'mongodb', url: `mongodb://127.0.0.1:${port}`, ...server };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

function waitForPort(port: number, child: ChildProcess, name: string, output: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        reject(new Error(`${name} exited with code ${child.exitCode} before accepting connections:\n${output()}`));
        return;
      }
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`${name} did not accept connections on ${port} within ${timeoutMs} ms:\n${output()}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

async function startProcess(name: string, command: string, args: string[], port: number, dir: string): Promise<ChildProcess> {
  let log = '';
  const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(new Error(`cannot start ${name} (${command}): ${error.message}; run scripts/test-deps.sh`))),
  );
  await Promise.race([waitForPort(port, child, name, () => log), failed]);
  return child;
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/** A private redis-server on a free port, with no persistence. */
export async function startRedis(): Promise<TestService> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'idp-redis-'));
  const child = await startProcess(
    'redis-server',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    port,
    dir,
  );
  return { name: 'redis', url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: stopper(child, dir) };
}

/** A private MongoDB-wire server: mongod when installed, else FerretDB over SQLite in a temp dir. */
export async function startMongo(): Promise<TestService> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'idp-mongo-'));
  const child = existsSync(FERRETDB_BIN)
    ? await startProcess(
        'FerretDB',
        FERRETDB_BIN,
        ['-listen-addr', `127.0.0.1:${port}`, '-sqlite-dir', dir, '-exit-with-parent'],
        port,
        dir,
      )
    : await startProcess('mongod', 'mongod', ['--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', dir], port, dir);
  return { name: 'mongodb', url: `mongodb://127.0.0.1:${port}`, pid: child.pid, stop: stopper(child, dir) };
}

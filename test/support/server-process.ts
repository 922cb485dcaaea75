import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { answersOk, type ManagedProcess, runToExit, spawnProcess, waitUntilReady as waitForProcess } from '../../scripts/lib/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A server that does not stop within this long after its signal is killed (SIGKILL). */
const KILL_AFTER_MS = 15_000;

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  output(): { stdout: string; stderr: string };
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** The process as the shared helper holds it (for waiting on readiness). */
  managed: ManagedProcess;
}

/**
 * The given environment and PATH, nothing else, except that the shutdown drain is off unless `env`
 * sets it: the server's default (5 s of serving while /readyz says 503) only slows a test's stop.
 */
function serverEnvironment(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', IDP_SHUTDOWN_DRAIN_MS: '0', ...env };
}

/** Runs `node src/main.ts` (what npm start runs) with the given environment (see serverEnvironment). */
export function spawnServer(env: Record<string, string>): ServerProcess {
  const managed = spawnProcess(process.execPath, ['src/main.ts'], { name: 'server', cwd: ROOT, env: serverEnvironment(env) });
  return {
    child: managed.child,
    port: Number(env.PORT ?? 3000),
    output: managed.output,
    async stop(signal = 'SIGTERM') {
      return (await managed.stop({ signal, killAfterMs: KILL_AFTER_MS })).code;
    },
    managed,
  };
}

/** Resolves once the server answers /healthz on its PORT; rejects with its output if it exits first. */
export async function waitUntilReady(server: ServerProcess, timeoutMs = 15_000): Promise<void> {
  await waitForProcess(server.managed, answersOk(`http://127.0.0.1:${server.port}/healthz`), { timeoutMs, intervalMs: 50 });
}

/** Runs the server to completion (for start-up failures) and returns its exit code and output. */
export async function runServerToExit(env: Record<string, string>, timeoutMs = 20_000) {
  const { code, stdout, stderr } = await runToExit(process.execPath, ['src/main.ts'], {
    name: 'server',
    cwd: ROOT,
    env: serverEnvironment(env),
    timeoutMs,
  });
  return { code, stdout, stderr };
}

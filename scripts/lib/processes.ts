import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';

/**
 * Child processes for the tests, the benchmark and the local services they run against: spawned
 * with their output captured (or written to a file), waited for until ready, stopped with a signal
 * and then SIGKILL, and always reaped: every promise here settles only after the process has exited.
 */

export interface ProcessExit {
  /** The exit code; null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Names the process in error messages; the command by default. */
  name?: string;
  cwd?: string;
  /** The child's whole environment; without it, it inherits this process's. */
  env?: Record<string, string>;
  /** 'capture' (the default) keeps stdout and stderr in memory; a file descriptor receives both. */
  output?: 'capture' | number;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  /** Added to the message when the command cannot be started at all (not installed, say). */
  ifMissing?: string;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  /** Captured so far; empty when the output goes to a file. */
  output(): { stdout: string; stderr: string };
  /** Settles once the process has exited and its output is complete; never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Why the command could not be started, if it could not. */
  startError(): Error | undefined;
  /**
   * Sends `signal` (SIGTERM by default), then SIGKILL if the process is still there `killAfterMs`
   * later; resolves with its exit once it is gone.
   */
  stop(options?: { signal?: NodeJS.Signals; killAfterMs?: number }): Promise<ProcessExit>;
}

export function spawnProcess(command: string, args: string[], options: SpawnOptions = {}): ManagedProcess {
  const name = options.name ?? command;
  const sink = options.output === undefined || options.output === 'capture' ? 'pipe' : options.output;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', sink, sink],
  });
  const captured = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (captured.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (captured.stderr += chunk.toString()));
  let startError: Error | undefined;
  child.once('error', (error) => {
    startError ??= new Error(`cannot start ${name} (${command}): ${error.message}${options.ifMissing ? `; ${options.ifMissing}` : ''}`);
  });
  // 'close' comes after 'exit' once stdout and stderr have ended, and also after a failed spawn. A
  // grandchild that kept the pipes open would hold it back, so they are closed a moment after exit.
  const exited = new Promise<ProcessExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  child.once('exit', () => {
    setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, 1000).unref();
  });
  if (child.stdin) {
    // A process that exits without reading its input must not crash this one with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin);
  }

  return {
    name,
    child,
    pid: child.pid,
    output: () => ({ ...captured }),
    exited,
    startError: () => startError,
    async stop({ signal = 'SIGTERM', killAfterMs = 5000 } = {}) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill(signal);
        const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/** What "ready" means for a process, said in words for the error when it never gets there. */
export interface Readiness {
  description: string;
  check(): Promise<boolean>;
}

/** Ready once `url` answers with a 2xx status. */
export function answersOk(url: string): Readiness {
  return {
    description: `answering ${url}`,
    async check() {
      try {
        const response = await fetch(url);
        await response.arrayBuffer();
        return response.ok;
      } catch {
        return false; // not listening yet
      }
    },
  };
}

/** Ready once a TCP connection to the port succeeds. */
export function acceptsConnections(port: number, host = '127.0.0.1'): Readiness {
  return {
    description: `accepting connections on ${host}:${port}`,
    check: () =>
      new Promise((resolve) => {
        const socket = createConnection({ port, host });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => {
          socket.destroy();
          resolve(false);
        });
      }),
  };
}

/**
 * Polls `readiness` every `intervalMs` until it holds. Rejects with the process's output when the
 * process cannot start, exits first, or is not ready within `timeoutMs`; the process is left as it
 * is (the caller stops it).
 */
export async function waitUntilReady(
  managed: ManagedProcess,
  readiness: Readiness,
  {
    timeoutMs,
    intervalMs = 50,
    describeOutput = () => {
      const { stdout, stderr } = managed.output();
      return `${stderr}${stdout}`;
    },
  }: { timeoutMs: number; intervalMs?: number; describeOutput?: () => string },
): Promise<void> {
  const { child } = managed;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const startError = managed.startError();
    if (startError) throw startError;
    if (child.exitCode !== null || child.signalCode !== null) {
      const how = child.signalCode ? `on ${child.signalCode}` : `with code ${child.exitCode}`;
      throw new Error(`${managed.name} exited ${how} before ${readiness.description}:\n${describeOutput()}`);
    }
    if (await readiness.check()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${managed.name} was not ${readiness.description} within ${timeoutMs} ms:\n${describeOutput()}`);
}

/**
 * Runs a command to its end and returns its exit and output. A command that cannot be started
 * rejects; one still running after `timeoutMs` is killed (SIGKILL) and rejects with its output.
 */
export async function runToExit(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<ProcessExit & { stdout: string; stderr: string }> {
  const { timeoutMs, ...spawnOptions } = options;
  const managed = spawnProcess(command, args, spawnOptions);
  let timedOut = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          managed.child.kill('SIGKILL');
        }, timeoutMs);
  const exit = await managed.exited;
  clearTimeout(timer);
  const startError = managed.startError();
  if (startError) throw startError;
  if (timedOut) throw new Error(`${managed.name} did not exit within ${timeoutMs} ms:\n${JSON.stringify(managed.output())}`);
  return { ...exit, ...managed.output() };
}

import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';

export interface SuperviseOptions {
  /** How many server processes to keep running. */
  count: number;
  config: Config;
  logger: Logger;
}

/** A worker that dies this soon after it started is restarted only after a pause, doubling up to MAX_RESTART_DELAY_MS. */
const CRASH_LOOP_MS = 10_000;
const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * IDP_WORKERS: this process forks `count` server processes (Node's cluster module; they share the
 * listening port) and keeps that many running: a worker that dies is replaced, after a growing pause
 * when it keeps dying young. The stores are shared (Redis, MongoDB), so any worker can serve any
 * request. With METRICS_PORT, this process serves the sum of every worker's metrics.
 *
 * Signals: SIGTERM and SIGINT stop the replacing and are passed to every worker, which drains and
 * stops as a single server does (Ctrl-C at a terminal reaches the workers by itself); this process
 * exits once they all have. A second signal stops them at once. If no worker ever started (a port
 * in use, a database down at start), this process exits with the first worker's reason.
 */
export async function superviseWorkers({ count, config, logger }: SuperviseOptions): Promise<void> {
  const log = logger.child({ module: 'workers' });
  let stopping = false;
  let everListened = false;
  let restartDelay = FIRST_RESTART_DELAY_MS;
  const startedAt = new Map<Worker, number>();
  const lastError = new Map<Worker, string>();

  const fork = () => {
    // The worker's stderr carries a start-up failure's one line; it is kept to report, and still shown.
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
    worker.process.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      lastError.set(worker, chunk.toString('utf8').trim().split('\n').at(-1) ?? '');
    });
  };

  cluster.setupPrimary({ silent: false, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  cluster.on('listening', () => {
    if (!everListened) log.info({ event: 'workers.listening', workers: count }, 'workers serving');
    everListened = true;
  });
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    const reason = lastError.get(worker);
    lastError.delete(worker);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log.info('every worker stopped');
        process.exit(0);
      }
      return;
    }
    if (!everListened) {
      stopAll('SIGKILL');
      process.stderr.write(`${reason || `a worker exited with ${signal ?? `code ${code}`} before it served`}\n`);
      process.exit(1);
    }
    const delay = lived < CRASH_LOOP_MS ? restartDelay : 0;
    restartDelay = lived < CRASH_LOOP_MS ? Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS) : FIRST_RESTART_DELAY_MS;
    log.error(
      { event: 'workers.died', pid: worker.process.pid, exitCode: code, signal, restartInMs: delay },
      'a worker died; starting another',
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });

  const stopAll = (signal: NodeJS.Signals) => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    if (stopping) {
      log.warn({ signal }, 'second signal: stopping every worker now');
      stopAll('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'stopping the workers');
    // Ctrl-C at a terminal signals the whole process group, the workers included.
    if (signal === 'SIGTERM') stopAll('SIGTERM');
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  if (config.metricsPort !== undefined) {
    const { listenMetrics, workersMetrics } = await import('./observability/metrics.ts');
    await listenMetrics(workersMetrics(), config.metricsPort, config.host);
    log.info({ event: 'metrics', port: config.metricsPort }, 'metrics of every worker at GET /metrics');
  }
  log.info({ event: 'workers.starting', workers: count }, `starting ${count} workers`);
  for (let index = 0; index < count; index += 1) fork();
}

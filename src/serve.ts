import type { Server, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { assembleServer } from './assemble.ts';
import { listenHost } from './config/listen.ts';
import type { Config } from './config/schema.ts';
import { AppError } from './errors.ts';
import { listenMetrics, type Metrics, shareWithSupervisor } from './observability/metrics.ts';
import type { Tracing } from './observability/tracing.ts';
import { demoBanner } from './pages/demo/demo.ts';
import type { Stores } from './storage/ports.ts';

export interface ServeOptions {
  /** Set in a worker of IDP_WORKERS: its metrics are served by the supervisor, which also owns the signals' second press. */
  worker?: number | undefined;
  /** Started by main before the server's modules were loaded; its last spans are sent at shutdown. */
  tracing?: Tracing | undefined;
  /** When main started (performance.now()), for the ready line's `ms`. */
  started?: number;
  /** The environment, for the variables a seed file's `secret_env` names. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** One server process: assemble -> listen -> shutdown. Run by main, alone or as one of the workers. */
export async function serve(
  config: Config,
  logger: Logger,
  { worker, tracing, started = performance.now(), env }: ServeOptions = {},
): Promise<void> {
  const lifecycle = { stopping: false };
  const { app, stores, demo, metrics } = await assembleServer({ config, logger, demo: true, stopping: () => lifecycle.stopping, env });
  // The embedded mode prints a client secret and holds a demo password: loopback only, unless HOST
  // (or the container image) says otherwise.
  const host = listenHost(config);
  const server = await listen(app, config.port, host);
  if (metrics && config.metricsPort !== undefined) await serveMetrics(metrics, config, host, logger, worker);
  const ms = Math.round(performance.now() - started);
  logger.info(
    {
      event: 'ready',
      issuer: config.issuer,
      host: host ?? 'all interfaces',
      port: config.port,
      stores: stores.kinds,
      tracing: config.tracing.endpoint ? 'on' : 'off',
      ms,
    },
    'listening',
  );
  if (!demo && worker === undefined) {
    for (const [name, kind] of Object.entries(stores.kinds)) {
      if (kind === 'memory') logger.warn(`${name} store is in-process memory: its data is lost on restart`);
    }
  }
  if (demo) process.stdout.write(`\n${demoBanner(demo, config.issuer).join('\n')}\n\n`);

  handleShutdown(server, stores, tracing, config, logger, lifecycle);
}

/** Alone, the process serves its own metrics; a worker hands them to the supervisor, which serves every worker's sum. */
async function serveMetrics(metrics: Metrics, config: Config, host: string | undefined, logger: Logger, worker: number | undefined) {
  if (worker !== undefined) {
    shareWithSupervisor(metrics);
    return;
  }
  await listenMetrics(metrics.registry, config.metricsPort ?? 0, host);
  logger.info({ event: 'metrics', port: config.metricsPort }, 'metrics at GET /metrics');
}

function listen(app: Koa, port: number, host: string | undefined): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = host ? app.listen(port, host) : app.listen(port);
    server.once('listening', () => resolve(server));
    server.once('error', (error: NodeJS.ErrnoException) => {
      const message =
        error.code === 'EADDRINUSE'
          ? `port (PORT): ${port} is already in use; choose another PORT`
          : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND'
            ? `host (HOST): ${host} is not an address of this machine`
            : `cannot listen on port ${port}: ${error.message}`;
      reject(new AppError('startup', message));
    });
  });
}

/**
 * SIGTERM (an orchestrator or load balancer): readiness turns 503 at once while requests are still
 * served for IDP_SHUTDOWN_DRAIN_MS, each answer closing its connection, so traffic moves to other
 * instances before anyone meets a refused connection. Then the listener closes, idle connections
 * close at once, in-flight requests finish (cut after IDP_SHUTDOWN_TIMEOUT_MS), the stores close.
 * SIGINT (Ctrl-C at a terminal) skips the drain. A second signal exits at once.
 */
function handleShutdown(
  server: Server,
  stores: Stores,
  tracing: Tracing | undefined,
  config: Config,
  logger: Logger,
  lifecycle: { stopping: boolean },
): void {
  server.on('request', (_request, response: ServerResponse) => {
    if (lifecycle.stopping) response.setHeader('Connection', 'close');
  });
  const stop = async (signal: 'SIGTERM' | 'SIGINT') => {
    if (lifecycle.stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    lifecycle.stopping = true;
    const drainMs = signal === 'SIGTERM' ? config.shutdownDrainMs : 0;
    logger.info({ signal, drainMs }, 'shutting down: readiness says 503');
    if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
    await closed;
    clearTimeout(timer);
    await stores.close();
    // The last requests' spans are still buffered.
    await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'traces not all sent'));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

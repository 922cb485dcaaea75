import type { Server, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { loadConfig } from './config/load-config.ts';
import type { Config } from './config/schema.ts';
import { AppError, isAppError } from './errors.ts';
import { startTracing, type Tracing } from './observability/tracing.ts';
import type { Stores } from './storage/ports.ts';

const CONFIG_DIR = fileURLToPath(new URL('../config/', import.meta.url));

/** The composition root: loadConfig -> assemble -> listen -> shutdown. */
async function main(): Promise<void> {
  const loaded = loadConfig({ env: process.env, configDir: CONFIG_DIR });
  if (!loaded.ok) {
    for (const error of loaded.errors) process.stderr.write(`configuration error: ${error}\n`);
    process.exit(1);
  }
  const { config } = loaded;
  const started = performance.now();
  // Tracing, when configured, must hook the instrumented packages before anything imports them, so
  // the server's modules are imported only after it started (and cost nothing more when it is off).
  const tracing = await startTracing(config.tracing).catch((error: unknown) => {
    throw new AppError('startup', `tracing (OTEL_EXPORTER_OTLP_ENDPOINT): ${(error as Error).message}`, { cause: error });
  });
  const [{ assembleServer }, { createLogger }, { listenMetrics }, { demoBanner }] = await Promise.all([
    import('./assemble.ts'),
    import('./logging/create-logger.ts'),
    import('./observability/metrics.ts'),
    import('./pages/demo.ts'),
  ]);
  const logger = createLogger(config.logLevel);

  const lifecycle = { stopping: false };
  const { app, stores, demo, metrics } = await assembleServer({ config, logger, demo: true, stopping: () => lifecycle.stopping });
  // The embedded mode prints a client secret and holds a demo password: loopback only, unless HOST says otherwise.
  const host = config.host ?? (demo ? '127.0.0.1' : undefined);
  const server = await listen(app, config.port, host);
  if (metrics && config.metricsPort !== undefined) {
    await listenMetrics(metrics, config.metricsPort, host).catch((error: NodeJS.ErrnoException) => {
      throw new AppError(
        'startup',
        error.code === 'EADDRINUSE'
          ? `metricsPort (METRICS_PORT): ${config.metricsPort} is already in use; choose another METRICS_PORT`
          : `cannot serve metrics: ${error.message}`,
      );
    });
    logger.info({ event: 'metrics', port: config.metricsPort }, 'metrics at GET /metrics');
  }
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
  if (!demo) {
    for (const [name, kind] of Object.entries(stores.kinds)) {
      if (kind === 'memory') logger.warn(`${name} store is in-process memory: its data is lost on restart`);
    }
  }
  if (demo) process.stdout.write(`\n${demoBanner(demo, config.issuer).join('\n')}\n\n`);

  handleShutdown(server, stores, tracing, config, logger, lifecycle);
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

main().catch((error: unknown) => {
  const message = isAppError(error, 'startup') ? error.message : `start-up failed: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});

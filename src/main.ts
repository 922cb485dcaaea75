import type { Server, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { assembleServer } from './assemble.ts';
import { listenHost } from './config/listen.ts';
import { loadConfig } from './config/load-config.ts';
import type { Config } from './config/schema.ts';
import { AppError, isAppError } from './errors.ts';
import { createLogger } from './logging/create-logger.ts';
import { listenMetrics } from './observability/metrics.ts';
import { demoBanner } from './pages/demo/demo.ts';
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
  const logger = createLogger(config.logLevel);
  const started = performance.now();

  const lifecycle = { stopping: false };
  const { app, stores, demo, metrics } = await assembleServer({
    config,
    logger,
    demo: true,
    stopping: () => lifecycle.stopping,
    env: process.env,
  });
  // The embedded mode prints a client secret and holds a demo password: loopback only, unless HOST
  // (or the container image) says otherwise.
  const host = listenHost(config);
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
    { event: 'ready', issuer: config.issuer, host: host ?? 'all interfaces', port: config.port, stores: stores.kinds, ms },
    'listening',
  );
  if (!demo) {
    for (const [name, kind] of Object.entries(stores.kinds)) {
      if (kind === 'memory') logger.warn(`${name} store is in-process memory: its data is lost on restart`);
    }
  }
  if (demo) process.stdout.write(`\n${demoBanner(demo, config.issuer).join('\n')}\n\n`);

  handleShutdown(server, stores, config, logger, lifecycle);
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
function handleShutdown(server: Server, stores: Stores, config: Config, logger: Logger, lifecycle: { stopping: boolean }): void {
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

import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { assembleServer } from './assemble.ts';
import { loadConfig } from './config/load-config.ts';
import type { Config } from './config/schema.ts';
import { AppError, isAppError } from './errors.ts';
import { createLogger } from './logging/create-logger.ts';
import { demoBanner } from './pages/demo.ts';
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

  const { app, stores, demo } = await assembleServer({ config, logger, demo: true });
  const server = await listen(app, config.port);
  const ms = Math.round(performance.now() - started);
  logger.info({ event: 'ready', issuer: config.issuer, port: config.port, stores: stores.kinds, ms }, 'listening');
  if (!demo) {
    for (const [name, kind] of Object.entries(stores.kinds)) {
      if (kind === 'memory') logger.warn(`${name} store is in-process memory: its data is lost on restart`);
    }
  }
  if (demo) process.stdout.write(`\n${demoBanner(demo, config.issuer).join('\n')}\n\n`);

  handleShutdown(server, stores, config, logger);
}

function listen(app: Koa, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port);
    server.once('listening', () => resolve(server));
    server.once('error', (error: NodeJS.ErrnoException) => {
      const message =
        error.code === 'EADDRINUSE' ? `port (PORT): ${port} is already in use; choose another PORT` : `cannot listen on port ${port}: ${error.message}`;
      reject(new AppError('startup', message));
    });
  });
}

/** SIGTERM/SIGINT: stop accepting, let in-flight requests finish (bounded), then close the stores. */
function handleShutdown(server: Server, stores: Stores, config: Config, logger: Logger): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
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

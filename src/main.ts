import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { loadPasswordBlocklist } from './users/password-blocklist.ts';
import { createApp } from './app.ts';
import { parseStaticClients } from './clients/static-clients.ts';
import { loadConfig } from './config/load-config.ts';
import type { Config } from './config/schema.ts';
import { createDemo, demoBanner, type Demo } from './pages/demo.ts';
import { createLogger } from './logging/create-logger.ts';
import { assertClientsValid } from './oidc/create-provider.ts';
import { generateKeySet } from './oidc/keys.ts';
import { createStores } from './storage/create-stores.ts';
import type { Stores } from './storage/ports.ts';

/** A start-up failure an operator can fix; printed as one line, without a stack trace. */
class StartupError extends Error {}

const CONFIG_DIR = fileURLToPath(new URL('../config/', import.meta.url));

/** The composition root: loadConfig -> connect -> createApp -> listen -> shutdown. */
async function main(): Promise<void> {
  const loaded = loadConfig({ env: process.env, configDir: CONFIG_DIR });
  if (!loaded.ok) {
    for (const error of loaded.errors) process.stderr.write(`configuration error: ${error}\n`);
    process.exit(1);
  }
  const { config } = loaded;
  const logger = createLogger(config.logLevel);
  const started = performance.now();

  const { jwks, cookieKeys } = await resolveKeys(config, logger);
  const clients = loadStaticClients(config);
  const blocklist = await loadPasswordBlocklist(config.password);
  const stores = await createStores({
    mongodbUri: config.mongodbUri,
    redisUrl: config.redisUrl,
    redisKeyPrefix: config.redisKeyPrefix,
    clockTolerance: config.clockTolerance,
    clientCacheTtl: config.clientCacheTtl,
    userCacheTtl: config.userCacheTtl,
    onAnnounceFailure: (error) => logger.warn({ event: 'cache.announce_failed', err: error }, error.message),
  }).catch((error: unknown) => {
    throw new StartupError((error as Error).message);
  });

  const embedded = stores.kinds.users === 'memory' && stores.kinds.oidc === 'memory';
  const demo = embedded ? createDemo(config.issuer) : undefined;
  if (demo) clients.push(demo.client);

  let app;
  try {
    app = createApp({ config, stores, logger, jwks, cookieKeys, clients, blocklist, demo });
    await assertClientsValid(app.provider, clients);
  } catch (error) {
    await stores.close();
    throw new StartupError(`invalid provider configuration: ${(error as Error).message}`);
  }
  if (demo) await seedDemoUser(app.userService, demo);

  const server = await listen(app.app, config.port);
  const ms = Math.round(performance.now() - started);
  logger.info({ event: 'ready', issuer: config.issuer, port: config.port, stores: stores.kinds, ms }, 'listening');
  if (!embedded) {
    for (const [name, kind] of Object.entries(stores.kinds)) {
      if (kind === 'memory') logger.warn(`${name} store is in-process memory: its data is lost on restart`);
    }
  }
  if (demo) process.stdout.write(`\n${demoBanner(demo, config.issuer).join('\n')}\n\n`);

  handleShutdown(server, stores, config, logger);
}

async function resolveKeys(config: Config, logger: Logger): Promise<{ jwks: NonNullable<Config['jwks']>; cookieKeys: string[] }> {
  if (config.jwks && config.cookieKeys) return { jwks: config.jwks, cookieKeys: config.cookieKeys };
  // Production refuses to start without both (see the config schema); elsewhere, generated keys
  // keep `npm start` free of setup, at the price of sessions and tokens not surviving a restart.
  const generated = await generateKeySet();
  const missing = [config.jwks ? undefined : 'IDP_JWKS', config.cookieKeys ? undefined : 'IDP_COOKIE_KEYS'].filter(Boolean);
  logger.warn(`${missing.join(' and ')} not set: using keys generated for this run only (set them with npm run keys)`);
  return {
    jwks: config.jwks ?? (generated.jwks as NonNullable<Config['jwks']>),
    cookieKeys: config.cookieKeys ?? generated.cookieKeys,
  };
}

function loadStaticClients(config: Config) {
  if (!config.clientsFile) return [];
  let text: string;
  try {
    text = readFileSync(config.clientsFile, 'utf8');
  } catch {
    throw new StartupError(`clientsFile (IDP_CLIENTS_FILE): cannot read ${config.clientsFile}`);
  }
  const parsed = parseStaticClients(text);
  if (!parsed.ok) throw new StartupError(`clientsFile (IDP_CLIENTS_FILE): ${config.clientsFile} ${parsed.error}`);
  return parsed.clients;
}

async function seedDemoUser(userService: ReturnType<typeof createApp>['userService'], demo: Demo): Promise<void> {
  const { username, email, password } = demo.user;
  const result = await userService.register({ username, email, password, confirmPassword: password });
  if (!result.ok) throw new StartupError(`cannot create the demo user: ${JSON.stringify(result.errors)}`);
}

function listen(app: ReturnType<typeof createApp>['app'], port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port);
    server.once('listening', () => resolve(server));
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new StartupError(
          error.code === 'EADDRINUSE' ? `port (PORT): ${port} is already in use; choose another PORT` : `cannot listen on port ${port}: ${error.message}`,
        ),
      );
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
  const message = error instanceof StartupError ? error.message : `start-up failed: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});

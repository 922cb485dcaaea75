import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import { createSecurityEvents, type SecurityEvents } from './audit/security-events.ts';
import { createRegisteredClientAdapter, withRegisteredClients } from './clients/client-adapter.ts';
import { createClientAdmin } from './clients/client-admin.ts';
import { createSecretBox } from './clients/secret-box.ts';
import { parseStaticClients } from './clients/static-clients.ts';
import { embeddedOnNetwork, isEmbedded } from './config/listen.ts';
import { redisTopology } from './config/redis-topology.ts';
import type { Config, Jwks } from './config/schema.ts';
import { AppError } from './errors.ts';
import { createLogger } from './logging/create-logger.ts';
import { createMailer } from './mail/mailer.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { withSignInTraces } from './observability/sign-in-trace.ts';
import { accountClient } from './oidc/configuration/account-client.ts';
import { RESOURCE_SCOPES, resourceScopesProblem } from './oidc/configuration/api-access.ts';
import { supportedScopes } from './oidc/configuration/claim-scopes.ts';
import { assertClientsValid, createProvider } from './oidc/create-provider.ts';
import { loadDevKeys } from './oidc/data-dir.ts';
import { createFindAccount } from './oidc/find-account.ts';
import { generateKeySet } from './oidc/keys.ts';
import { withReadsPerRequest } from './oidc/request-reads.ts';
import { recordProviderSecurityEvents } from './oidc/security-events.ts';
import { createDemo, type Demo } from './pages/demo/demo.ts';
import { createProviderPages } from './pages/provider-pages.ts';
import { VIEWS_DIR } from './paths.ts';
import { createRateLimit } from './rate-limit.ts';
import { applySeed } from './seed/apply-seed.ts';
import { prepareSeed } from './seed/prepare-seed.ts';
import { createStores } from './storage/create-stores.ts';
import type { StoreObserver } from './storage/observer.ts';
import type { Stores } from './storage/ports.ts';
import { createUpstreamServices, type UpstreamServices } from './upstreams/create-upstream-services.ts';
import type { UpstreamLogins } from './upstreams/upstream-logins.ts';
import { createUserServices, type UserServices } from './users/create-user-services.ts';
import { createCredentialChanges } from './users/credentials-changed.ts';
import { loadPasswordBlocklist, type PasswordBlocklist } from './users/password-blocklist.ts';
import { createUserSessions } from './users/sessions.ts';

/**
 * The one assembly: config -> stores -> adapters (mail included) -> services -> provider -> app.
 * The server (src/main.ts), the test app, the admin tools and the benchmark all build through
 * here, so none of them can drift from what runs in production. Nothing here reads process.env.
 */

export interface Keys {
  jwks: Jwks;
  cookieKeys: string[];
  /** Encrypt stored client secrets; default: IDP_CLIENT_SECRET_KEYS (the embedded mode makes one for the run). */
  clientSecretKeys?: string[] | undefined;
  /** The demo client's secret kept in IDP_DATA_DIR, when one is set. */
  demoClientSecret?: string | undefined;
}

export interface ServerOptions {
  config: Config;
  logger: Logger;
  /** Default: the configured keys, or keys generated for this run (production refuses to start without them). */
  keys?: Keys;
  /** Clients from configuration; default: those of IDP_CLIENTS_FILE. */
  clients?: ClientMetadata[];
  /** Default: the shipped list, loaded here (tests load it once per file). */
  blocklist?: PasswordBlocklist;
  /** The embedded mode's demo client and user, when both stores are in-process (what `npm start` shows). */
  demo?: boolean;
  /** Readiness says 503 while this is true (the shutdown's drain). */
  stopping?: () => boolean;
  /** The environment, for the variables a seed file's `secret_env` names (main passes process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface AssembledServer {
  app: Koa;
  provider: Provider;
  users: UserServices;
  /** Sign-in through other identity providers (IDP_UPSTREAMS). */
  upstreams: UpstreamServices;
  stores: Stores;
  /** Present in the embedded mode only. */
  demo: Demo | undefined;
  /** Present when METRICS_PORT is set: main serves them on that port (listenMetrics). */
  metrics: Metrics | undefined;
  close(): Promise<void>;
}

/** Connections the config names, in-process stores for the rest. A server caches and never fails a write on a lost announcement. */
async function openStores(
  config: Config,
  { logger, redis = true, metrics }: { logger?: Logger; redis?: boolean; metrics?: Metrics | undefined } = {},
): Promise<Stores> {
  return createStores({
    mongodbUri: config.mongodbUri,
    redis: redis ? redisTopology(config) : undefined,
    redisDurability: { replicas: config.redisWaitReplicas, timeoutMs: config.redisWaitTimeoutMs },
    redisKeyPrefix: config.redisKeyPrefix,
    clockTolerance: config.clockTolerance,
    memoryStoreMaxBytes: config.memoryStoreMaxMiB * 1024 * 1024,
    // Tools pass no logger: they read the store at every lookup and fail loudly when they cannot tell the servers.
    ...(logger
      ? {
          clientCacheTtl: config.clientCacheTtl,
          userCacheTtl: config.userCacheTtl,
          onAnnounceFailure: (error: Error) => logger.warn({ event: 'cache.announce_failed', err: error }, error.message),
          observer: storeObserver(logger, metrics),
        }
      : {}),
  });
}

/** A server's view of its stores: each connection lost or restored is one log line; metrics, when on, get the rest. */
function storeObserver(logger: Logger, metrics: Metrics | undefined): StoreObserver {
  const log = logger.child({ module: 'storage' });
  return {
    ...metrics?.stores,
    connection(change) {
      metrics?.stores.connection(change);
      const fields = { event: `store.${change.state}`, store: change.store, connection: change.connection, reason: change.reason };
      if (change.state === 'lost') log.error(fields, `${change.store} connection lost; retrying`);
      else log.info(fields, `${change.store} connection restored`);
    },
  };
}

/**
 * The configured keys, or (outside production, where the schema requires them) keys made at start:
 * kept in IDP_DATA_DIR when it is set, so they survive restarts, else for this run only. Without a
 * data directory a client-secret key is made only in the embedded mode, whose stored clients vanish
 * with the process anyway; with MongoDB, secrets sealed under a key of one run would be unreadable
 * in the next.
 */
async function resolveKeys(config: Config, logger?: Logger): Promise<Keys> {
  const embedded = isEmbedded(config);
  const { jwks, cookieKeys, clientSecretKeys } = config;
  if (!config.dataDir && jwks && cookieKeys && (clientSecretKeys || !embedded)) return { jwks, cookieKeys, clientSecretKeys };
  const kept = config.dataDir ? await loadDevKeys(config.dataDir) : undefined;
  // Generated keys keep `npm start` free of setup, at the price (without a data directory) of
  // sessions and tokens not surviving a restart.
  const made = kept?.keys ?? (await generateKeySet());
  const missing = [
    jwks ? undefined : 'IDP_JWKS',
    cookieKeys ? undefined : 'IDP_COOKIE_KEYS',
    clientSecretKeys || !(kept || embedded) ? undefined : 'IDP_CLIENT_SECRET_KEYS',
  ].filter(Boolean);
  if (missing.length > 0)
    logger?.warn(
      kept
        ? `${missing.join(', ')} not set: using the keys kept in ${kept.path} (${kept.created ? 'made now' : 'made at an earlier start'}; development only)`
        : `${missing.join(', ')} not set: using keys generated for this run only (set them with npm run keys, or keep them with IDP_DATA_DIR)`,
    );
  return {
    jwks: jwks ?? (made.jwks as Jwks),
    cookieKeys: cookieKeys ?? made.cookieKeys,
    clientSecretKeys: clientSecretKeys ?? (kept || embedded ? made.clientSecretKeys : undefined),
    demoClientSecret: kept?.keys.demoClientSecret,
  };
}

/** The clients of IDP_CLIENTS_FILE, checked by our rules (oidc-provider's follow at start). */
function loadStaticClients(config: Config): ClientMetadata[] {
  if (!config.clientsFile) return [];
  let text: string;
  try {
    text = readFileSync(config.clientsFile, 'utf8');
  } catch {
    throw new AppError('startup', `clientsFile (IDP_CLIENTS_FILE): cannot read ${config.clientsFile}`);
  }
  const parsed = parseStaticClients(text);
  if (!parsed.ok) throw new AppError('startup', `clientsFile (IDP_CLIENTS_FILE): ${config.clientsFile} ${parsed.error}`);
  return parsed.clients;
}

/** oidc-provider configured exactly as the server runs it: the registered clients, our pages, the consume guard. */
function buildProvider(
  config: Config,
  stores: Stores,
  keys: Keys,
  clients: ClientMetadata[],
  logger: Logger,
  upstreamLogins?: UpstreamLogins,
): Provider {
  const registered = createRegisteredClientAdapter(stores.clients, createSecretBox(keys.clientSecretKeys ?? []), logger);
  // With tracing on, an authorization code carries its sign-in's trace to the token request.
  const adapter = config.tracing.endpoint ? withSignInTraces(stores.oidcAdapter) : stores.oidcAdapter;
  return createProvider({
    config,
    jwks: keys.jwks,
    cookieKeys: keys.cookieKeys,
    adapter: withRegisteredClients(withReadsPerRequest(adapter), registered),
    findAccount: createFindAccount(stores.users, upstreamLogins),
    clients: [...clients, accountClient(config.issuer)],
    revokeGrant: createUserSessions(stores).revokeGrant,
    pages: createProviderPages(registered.disabledName),
    signInCounts: createCredentialChanges(stores.users).counts,
    logger,
  });
}

/**
 * What protects second factors at rest: IDP_CLIENT_SECRET_KEYS (required in production). The embedded
 * mode, whose users live in the process and vanish with it, gets a key made for the run. Development
 * on MongoDB without the variable gets none, so nobody sets up a factor that the next start could not
 * read; the server says so once.
 */
function factorSecretKeys(config: Config, stores: Stores, logger?: Logger): string[] | undefined {
  if (config.clientSecretKeys) return config.clientSecretKeys;
  if (stores.kinds.users === 'memory') return [randomBytes(32).toString('base64url')];
  logger?.warn('IDP_CLIENT_SECRET_KEYS not set: authenticator apps and recovery codes cannot be set up (passkeys can)');
  return undefined;
}

function securityEvents(config: Config, stores: Stores, logger: Logger): SecurityEvents {
  return createSecurityEvents({ store: stores.securityEvents, logger, retentionDays: config.securityEvents.retentionDays });
}

function userServices(
  config: Config,
  stores: Stores,
  blocklist: PasswordBlocklist,
  events: SecurityEvents,
  logger: Logger,
  tool = false,
  /** The server's resolved client-secret keys (IDP_DATA_DIR may keep one in development). */
  resolvedKeys?: string[],
): UserServices {
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    from: config.mailFrom,
    viewsDir: VIEWS_DIR,
    productName: config.productName,
    logger,
  });
  const keys = tool ? config.clientSecretKeys : (resolvedKeys ?? factorSecretKeys(config, stores, logger));
  return createUserServices({ config, stores, blocklist, mailer, events, logger, factorSecretKeys: keys });
}

/** The whole server, not yet listening. Validates every configured client, so a bad one stops the start. */
export async function assembleServer(options: ServerOptions): Promise<AssembledServer> {
  const { logger } = options;
  // The seed file is checked before anything opens; its claim_scopes join the configuration's.
  const { seed, config } = await prepareSeed(options.config, options.env ?? {});
  const keys = withSecretKeys(options.keys ?? (await resolveKeys(config, logger)), config);
  if (seed && !keys.clientSecretKeys && seed.clients.some((client) => client.secret !== undefined))
    throw new AppError(
      'startup',
      'clientSecretKeys (IDP_CLIENT_SECRET_KEYS): the seed file has clients with secrets, and storing them needs this key (npm run keys makes one; in development IDP_DATA_DIR keeps one)',
    );
  const clients = [...(options.clients ?? loadStaticClients(config))];
  for (const client of clients) {
    const problem = resourceScopesProblem(client[RESOURCE_SCOPES], config.resources);
    if (problem) throw new AppError('startup', `clientsFile (IDP_CLIENTS_FILE): client "${client.client_id}": ${problem}`);
  }
  const blocklist = options.blocklist ?? (await loadPasswordBlocklist(config.password));
  const metrics = config.metricsPort !== undefined ? createMetrics() : undefined;
  const stores = await openStores(config, { logger, metrics }).catch((error: unknown) => {
    throw new AppError('startup', (error as Error).message, { cause: error });
  });
  try {
    const embedded = stores.kinds.users === 'memory' && stores.kinds.oidc === 'memory';
    const demo =
      options.demo && embedded
        ? createDemo(config.issuer, {
            clientSecret: seed?.demoClientSecret ?? keys.demoClientSecret,
            withUser: !seed,
            randomPassword: embeddedOnNetwork(config),
          })
        : undefined;
    if (demo) clients.push(demo.client);
    const events = securityEvents(config, stores, logger);
    metrics?.countSecurityEvents(events);
    const users = userServices(config, stores, blocklist, events, logger, false, keys.clientSecretKeys);
    const { maxPerIp, windowSeconds } = config.authorizationRequests;
    const authorizationRequests = createRateLimit(stores.attempts, 'auth-ip', { max: maxPerIp, windowSeconds });
    const upstreams = createUpstreamServices({
      config,
      stores,
      registrations: users.registrations,
      starts: authorizationRequests,
      events,
      logger,
    });
    let provider: Provider;
    let app: Koa;
    try {
      provider = buildProvider(config, stores, keys, clients, logger, upstreams.logins);
      metrics?.observe(provider);
      recordProviderSecurityEvents(provider, events);
      app = createApp({
        config,
        logger,
        provider,
        users,
        ping: () => stores.ping(),
        cookieKeys: keys.cookieKeys,
        demo,
        authorizationRequests,
        stopping: options.stopping,
        metrics,
        upstreams,
      });
      await assertClientsValid(provider, clients);
    } catch (error) {
      throw new AppError('startup', `invalid provider configuration: ${(error as Error).message}`, { cause: error });
    }
    if (demo?.user) {
      const { username, email, password } = demo.user;
      const result = await users.userService.register({ username, email, password, confirmPassword: password });
      if (!result.ok) throw new AppError('startup', `cannot create the demo user: ${JSON.stringify(result.errors)}`);
    }
    if (seed?.demoClientSecret && !demo)
      logger.warn({ event: 'seed.demo_client_ignored' }, 'the seed file sets demo_client, which only the embedded mode has: ignored');
    if (seed)
      await applySeed(seed, clientAdmin(config, stores, provider, keys, events), users.seedUsers, logger, {
        production: config.env === 'production',
      });
    return { app, provider, users, upstreams, stores, demo, metrics, close: () => stores.close() };
  } catch (error) {
    await stores.close();
    throw error;
  }
}

/** The service behind `npm run clients` (and the seed file's clients), validating with the server's own provider. */
function clientAdmin(config: Config, stores: Stores, provider: Provider, keys: Keys, events: SecurityEvents) {
  return createClientAdmin({
    store: stores.clients,
    box: createSecretBox(keys.clientSecretKeys ?? []),
    validateWithProvider: async (metadata) => {
      await provider.Client.validate(metadata as ClientMetadata);
    },
    apis: config.resources,
    scopes: supportedScopes(config.claimScopes),
    events,
  });
}

/** Keys given by a caller (a test) that bring no client-secret key get one as resolveKeys would make it. */
function withSecretKeys(keys: Keys, config: Config): Keys {
  if (keys.clientSecretKeys) return keys;
  const made = isEmbedded(config) ? [randomBytes(32).toString('base64url')] : undefined;
  return { ...keys, clientSecretKeys: config.clientSecretKeys ?? made };
}

export interface AssembledTools {
  stores: Stores;
  /** The services behind `npm run users` (loads the password blocklist). */
  users(): Promise<UserServices>;
  /** The service behind `npm run clients`, validating with the server's own provider configuration. */
  clients(): Promise<ReturnType<typeof createClientAdmin>>;
  close(): Promise<void>;
}

/** What the admin tools and the benchmark's seeding work with: the server's stores and services, without the app. */
export async function assembleTools(config: Config, { redis = true }: { redis?: boolean } = {}): Promise<AssembledTools> {
  const stores = await openStores(config, { redis });
  const logger = createLogger('silent');
  return {
    stores,
    async users() {
      return userServices(
        config,
        stores,
        await loadPasswordBlocklist(config.password),
        securityEvents(config, stores, logger),
        logger,
        true,
      );
    },
    async clients() {
      const keys = await resolveKeys(config);
      return clientAdmin(config, stores, buildProvider(config, stores, keys, [], logger), keys, securityEvents(config, stores, logger));
    },
    close: () => stores.close(),
  };
}

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientMetadata } from 'oidc-provider';
import { type AssembledServer, assembleServer } from '../../src/assemble.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logging/create-logger.ts';
import { generateKeySet, type KeySet } from '../../src/oidc/keys.ts';
import { loadPasswordBlocklist, type PasswordBlocklist } from '../../src/users/password-blocklist.ts';
import { type Isolation, redisEnvOf } from './backends.ts';
import { testConfig } from './test-config.ts';

export interface RunningApp extends AssembledServer {
  url: string;
  config: Config;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string | undefined>;
  clients?: (issuer: string) => ClientMetadata[];
  keys?: KeySet;
  /** Listen on this port (e.g. to restart "the same" server); a free one otherwise. */
  port?: number;
  /** Issuer https://127.0.0.1:PORT, for tests that play a TLS-terminating proxy. */
  https?: boolean;
  /**
   * The issuer's host: 127.0.0.1 unless a test needs a name, e.g. `localhost` for WebAuthn, whose
   * relying party id must be a domain, never an IP address (and http is allowed for localhost only).
   */
  hostname?: 'localhost';
  /**
   * The loopback address to listen on and name in the issuer (default 127.0.0.1). Browsers keep
   * cookies per host, not per port: a second server that plays another site (an upstream identity
   * provider) needs another host, such as 127.0.0.2, or the two would overwrite each other's cookies.
   */
  host?: string;
  /** Receives every log line (JSON) the app writes, for tests about logging. */
  logLines?: string[];
  /** The embedded mode's demo client, user and token debugger (in-process stores only). */
  demo?: boolean;
  /** Real Redis/MongoDB settings from isolation(); omitted = in-process stores. */
  backends?: Pick<Isolation, 'redisUrl' | 'mongodbUri' | 'redisKeyPrefix' | 'redis'>;
}

let sharedKeys: Promise<KeySet> | undefined;
/** One key set for every app of a test file that brings none (RSA generation takes a while). */
function sharedKeySet(): Promise<KeySet> {
  if (!sharedKeys) sharedKeys = generateKeySet();
  return sharedKeys;
}
const blocklists = new Map<number, Promise<PasswordBlocklist>>();

/** The real shipped blocklist, loaded once per minimum length per test file. */
export function testBlocklist(minLength = 15): Promise<PasswordBlocklist> {
  let blocklist = blocklists.get(minLength);
  if (!blocklist) {
    blocklist = loadPasswordBlocklist({ minLength });
    blocklists.set(minLength, blocklist);
  }
  return blocklist;
}

/** Builds the server through the one assembly main uses, and listens on a free port; the issuer is that address. */
export async function startTestApp(options: TestAppOptions = {}): Promise<RunningApp> {
  const keys = options.keys ?? (await sharedKeySet());
  // Reserve the port first: the issuer must name it before the provider is built.
  const host = options.host ?? '127.0.0.1';
  const probe = await listenOn(undefined, options.port ?? 0, host);
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));

  const backends = options.backends
    ? {
        MONGODB_URI: options.backends.mongodbUri,
        ...redisEnvOf(options.backends),
        IDP_REDIS_KEY_PREFIX: options.backends.redisKeyPrefix,
      }
    : {};
  const config = testConfig({
    PORT: String(port),
    ISSUER: `${options.https ? 'https' : 'http'}://${options.hostname ?? host}:${port}`,
    // As in production: the key that seals client secrets and protects second factors.
    IDP_CLIENT_SECRET_KEYS: keys.clientSecretKeys.join(','),
    ...backends,
    ...options.env,
  });
  const logger = options.logLines
    ? createLogger('info', { write: (line: string) => void options.logLines?.push(line) })
    : createLogger(config.logLevel);
  const assembled = await assembleServer({
    config,
    logger,
    keys: { jwks: keys.jwks as NonNullable<Config['jwks']>, cookieKeys: keys.cookieKeys },
    clients: options.clients?.(config.issuer) ?? [],
    blocklist: await testBlocklist(config.password.minLength),
    demo: options.demo,
  });
  const server = await listenOn(assembled.app.callback(), port, host);
  return {
    ...assembled,
    url: config.issuer,
    config,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await assembled.close();
    },
  };
}

async function listenOn(
  handler: Parameters<typeof import('node:http').createServer>[1] | undefined,
  port: number,
  host: string,
): Promise<Server> {
  const { createServer } = await import('node:http');
  const server = handler ? createServer(handler) : createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

import type { Config } from '../src/config/schema.ts';
import type { KeySet } from '../src/oidc/keys.ts';
import type { BaselineConfig } from './baseline-server.ts';
import { type BenchClient, staticMetadata } from './fixtures.ts';

/**
 * Access tokens live this long in the benchmark (s), so the million tokens of the memory run do
 * not pile up in Redis: it holds about rate x (lifetime + clock tolerance) of them at a time. Long
 * enough for any one scenario's runs.
 */
export const BENCH_ACCESS_TOKEN_TTL = 120;

/** Our server in production mode, as an operator would run it behind a TLS-terminating proxy. */
export function serverEnvironment(options: {
  port: number;
  keys: KeySet;
  /** The variables naming the Redis (REDIS_URL, or REDIS_CLUSTER_NODES, or REDIS_SENTINELS and REDIS_SENTINEL_NAME). */
  redisEnv: Record<string, string>;
  mongodbUri: string;
  extra: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PORT: String(options.port),
    ISSUER: `https://127.0.0.1:${options.port}`,
    TRUST_PROXY: 'true',
    IDP_JWKS: JSON.stringify(options.keys.jwks),
    IDP_COOKIE_KEYS: options.keys.cookieKeys.join(','),
    IDP_CLIENT_SECRET_KEYS: options.keys.clientSecretKeys.join(','),
    // Required in production; nothing listens there, and none of the scenarios sends mail.
    SMTP_URL: 'smtp://127.0.0.1:9',
    MONGODB_URI: options.mongodbUri,
    ...options.redisEnv,
    IDP_REDIS_KEY_PREFIX: 'bench:',
    IDP_ACCESS_TOKEN_TTL: String(BENCH_ACCESS_TOKEN_TTL),
    // Every sign-in of the benchmark comes from 127.0.0.1, so the per-address limit on authorization
    // requests (300 per 5 minutes by default) would refuse all but the first few hundred. The users
    // are registered through the admin services (seed.ts), not over HTTP, so the registration limit
    // does not apply.
    IDP_AUTH_MAX_PER_IP: '1000000',
    // No load balancer needs time to move traffic away at the end of a run; without this the 5 s
    // drain runs into the stop's SIGKILL.
    IDP_SHUTDOWN_DRAIN_MS: '0',
    ...options.extra,
  };
}

export function baselineEnvironment(options: {
  port: number;
  keys: KeySet;
  clients: BenchClient[];
  /** Our server's configuration, whose feature settings the baseline takes too. */
  config: Pick<Config, 'protocol' | 'resources'>;
}): Record<string, string> {
  const config: BaselineConfig = {
    issuer: `https://127.0.0.1:${options.port}`,
    port: options.port,
    jwks: options.keys.jwks as BaselineConfig['jwks'],
    cookieKeys: options.keys.cookieKeys,
    clients: options.clients.map(staticMetadata),
    accessTokenTtl: BENCH_ACCESS_TOKEN_TTL,
    features: { protocol: options.config.protocol, resources: options.config.resources },
  };
  return { NODE_ENV: 'production', BENCH_BASELINE_CONFIG: JSON.stringify(config) };
}

/**
 * The benchmark's baseline: bare oidc-provider, no Koa app around it, its built-in in-memory
 * adapter, configured like our provider wherever the two can be compared: the same clients, keys
 * (so RS256 ID tokens), claims and scopes, PKCE for every client, opaque access tokens, the same
 * features, taken from the provider's own featuresConfiguration with our server's protocol and
 * resources settings, and lifetimes. What stays bare: the library's default logout pages, and for
 * sign-in its development pages (devInteractions), used only to mint refresh and access tokens for
 * the token scenarios.
 *
 * Run by bench/main.ts as its own process, with BENCH_BASELINE_CONFIG (JSON) in the
 * environment.
 */
import { createServer } from 'node:http';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import type { Config } from '../src/config/schema.ts';
import { CLAIMS, SCOPES } from '../src/oidc/configuration/claims.ts';
import { CLIENT_DEFAULTS } from '../src/oidc/configuration/client-defaults.ts';
import { featuresConfiguration } from '../src/oidc/configuration/features.ts';

export interface BaselineConfig {
  issuer: string;
  port: number;
  jwks: { keys: Array<Record<string, unknown>> };
  cookieKeys: string[];
  clients: ClientMetadata[];
  accessTokenTtl: number;
  /** Our server's settings the features depend on (PAR required or not, resource indicators). */
  features: Pick<Config, 'protocol' | 'resources'>;
}

const config = JSON.parse(process.env.BENCH_BASELINE_CONFIG ?? 'null') as BaselineConfig | null;
if (!config) {
  process.stderr.write('BENCH_BASELINE_CONFIG is not set; this process is started by npm run bench\n');
  process.exit(2);
}

const configuration: Configuration = {
  clients: config.clients,
  jwks: config.jwks as Configuration['jwks'],
  cookies: { keys: config.cookieKeys, long: { httpOnly: true, sameSite: 'lax' }, short: { httpOnly: true, sameSite: 'lax' } },
  claims: CLAIMS,
  scopes: SCOPES,
  clientDefaults: CLIENT_DEFAULTS,
  responseTypes: ['code'],
  pkce: { required: () => true },
  ttl: {
    AccessToken: config.accessTokenTtl,
    ClientCredentials: config.accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    Session: 604800,
    Grant: 1209600,
    RefreshToken: 1209600,
  },
  features: { ...featuresConfiguration(config.features), devInteractions: { enabled: true } },
};

const provider = new Provider(config.issuer, configuration);
// The load generator plays a TLS-terminating proxy (X-Forwarded-Proto: https), as for our server.
provider.proxy = true;
const server = createServer(provider.callback()).listen(config.port, '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/**
 * The benchmark's baseline: bare oidc-provider, no Koa app around it, its built-in in-memory
 * adapter, configured like our provider wherever the two can be compared: the same clients, keys
 * (so RS256 ID tokens), claims and scopes, PKCE for every client, opaque access tokens, the same
 * features (client credentials, introspection, revocation, userinfo, DPoP, PAR, resource indicators
 * without a default resource, back-channel logout) and lifetimes. Its sign-in is the library's
 * development pages, used only to mint refresh and access tokens for the token scenarios.
 *
 * Run by bench/main.ts as its own process, with BENCH_BASELINE_CONFIG (JSON) in the
 * environment.
 */
import { createServer } from 'node:http';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { CLAIMS, SCOPES } from '../src/oidc/configuration/claims.ts';
import { CLIENT_DEFAULTS } from '../src/oidc/configuration/client-defaults.ts';

export interface BaselineConfig {
  issuer: string;
  port: number;
  jwks: { keys: Array<Record<string, unknown>> };
  cookieKeys: string[];
  clients: ClientMetadata[];
  accessTokenTtl: number;
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
  features: {
    devInteractions: { enabled: true },
    userinfo: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client?.clientId,
    },
    revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
    pushedAuthorizationRequests: { enabled: true },
    dPoP: { enabled: true },
    resourceIndicators: { enabled: true, defaultResource: async (_ctx, _client, oneOf) => oneOf, useGrantedResource: async () => true },
    backchannelLogout: { enabled: true },
  },
};

const provider = new Provider(config.issuer, configuration);
// The load generator plays a TLS-terminating proxy (X-Forwarded-Proto: https), as for our server.
provider.proxy = true;
const server = createServer(provider.callback()).listen(config.port, '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

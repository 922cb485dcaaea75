import Provider, { type ClientMetadata, type Configuration, type FindAccount } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config, Jwks } from '../config/schema.ts';
import { LOCALES } from '../i18n/locales.ts';
import type { OidcAdapterFactory } from '../storage/ports.ts';
import { loadExistingGrant } from './configuration/account-client.ts';
import { apiAccessMetadata } from './configuration/api-access.ts';
import { interactionPolicyWithLevels, mfaClientMetadata } from './configuration/authentication-level.ts';
import { claimsConfiguration } from './configuration/claim-scopes.ts';
import { ACR_VALUES } from './configuration/claims.ts';
import { CLIENT_DEFAULTS } from './configuration/client-defaults.ts';
import { cookiesConfiguration } from './configuration/cookies.ts';
import { joinClientMetadata } from './configuration/extra-client-metadata.ts';
import { featuresConfiguration, type LogoutPages } from './configuration/features.ts';
import { expiresWithSession, firstPartyMetadata, issueRefreshToken } from './configuration/first-party.ts';
import { ttlConfiguration } from './configuration/ttl.ts';
import { guardConsume } from './consume-guard.ts';
import { logProviderEvents } from './events.ts';

export interface ProviderDeps {
  config: Config;
  jwks: Jwks;
  cookieKeys: string[];
  adapter: OidcAdapterFactory;
  findAccount: FindAccount;
  clients: ClientMetadata[];
  /** Revokes a grant and its tokens: what the consume guard does on a replayed code or token. */
  revokeGrant(grantId: string): Promise<void>;
  /** The pages oidc-provider renders itself (errors, logout), drawn with our views. */
  pages: ProviderPages;
  logger: Logger;
}

export interface ProviderPages extends LogoutPages {
  renderError: NonNullable<Configuration['renderError']>;
}

/**
 * Builds the oidc-provider instance. Everything here is public configuration; see
 * https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#configuration-options
 */
export function createProvider({
  config,
  jwks,
  cookieKeys,
  adapter,
  findAccount,
  clients,
  revokeGrant,
  pages,
  logger,
}: ProviderDeps): Provider {
  const { claims, scopes } = claimsConfiguration(config.claimScopes);
  const configuration: Configuration = {
    adapter: guardConsume(adapter, revokeGrant),
    clients,
    findAccount,
    jwks: jwks as Configuration['jwks'],
    cookies: cookiesConfiguration(config.issuer, cookieKeys, config.protocol.authorizationPost),
    // OpenID Connect Core §3.1.2.1 says authorization servers MUST accept POST; off by default because
    // it needs a SameSite=None session cookie (see cookiesConfiguration). IDP_AUTHORIZATION_POST turns it on.
    enableHttpPostMethods: config.protocol.authorizationPost,
    claims,
    // The claims of every granted scope go in the ID token too, not only in userinfo (as Keycloak's
    // and Auth0's do): apps that read `groups` or an extra claim from the ID token, as most sign-in
    // libraries do, find it there. OpenID Connect Core §5.4 allows both.
    // @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#conformidtokenclaims
    conformIdTokenClaims: false,
    clientDefaults: CLIENT_DEFAULTS,
    // resource_scopes: the APIs and scopes each client may get access tokens for (deny by default);
    // require_mfa: every sign-in to the client needs a second factor; first_party: the operator's own
    // apps (first-party.ts).
    extraClientMetadata: joinClientMetadata(withMfaMetadata(apiAccessMetadata()), firstPartyMetadata()),
    scopes,
    acrValues: ACR_VALUES,
    // The languages of our pages, for ui_locales (OpenID Connect Discovery 1.0 §3).
    discovery: { ui_locales_supported: [...LOCALES] },
    // Clock skew tolerated in expiry checks; the stores keep records this much longer (config).
    clockTolerance: config.clockTolerance,
    // Authorization code flow only: no implicit or hybrid response types (RFC 9700 §2.1.2, ASVS 10.6.1).
    responseTypes: ['code'],
    // PKCE (S256 only) for every public client, and by default for confidential ones too
    // (RFC 9700 §2.1.1; ASVS 5.0 10.4.6).
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' || config.protocol.pkceForConfidentialClients },
    // CORS on the token, userinfo, introspection and revocation endpoints only for the origins of the
    // client's own redirect URIs (discovery and JWKS are public); never on the authorization endpoint,
    // which oidc-provider does not expose to CORS at all (RFC 9700 §2.6).
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => new URL(uri).origin === origin) ?? false,
    ttl: ttlConfiguration(config.ttl),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: interactionPolicyWithLevels(config.mfa) },
    renderError: pages.renderError,
    loadExistingGrant,
    // Refresh tokens: oidc-provider's rule (refresh_token grant and offline_access), and first-party apps.
    issueRefreshToken,
    expiresWithSession,
    features: featuresConfiguration(config, { logoutSource: pages.logoutSource, postLogoutSuccessSource: pages.postLogoutSuccessSource }),
    fetch: outboundFetch(config.outboundPrivateHosts),
  };

  const provider = new Provider(config.issuer, configuration);
  // Behind a TLS-terminating proxy, endpoint URLs and Secure cookies depend on X-Forwarded-*.
  provider.proxy = config.trustProxy;
  logProviderEvents(provider, logger);
  return provider;
}

/**
 * oidc-provider refuses outgoing requests (back-channel logout, jwks_uri) to loopback and private
 * addresses, against SSRF. Hosts the operator lists in IDP_OUTBOUND_PRIVATE_HOSTS (host:port, e.g.
 * an app on the internal network) are let through; every other request keeps that protection.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#fetch
 */
function outboundFetch(allowed: string[]): NonNullable<Configuration['fetch']> {
  const hosts = new Set(allowed);
  return (url, options) => {
    if (hosts.has(new URL(url).host)) {
      const { dispatcher: _ssrfGuard, ...rest } = options as typeof options & { dispatcher?: unknown };
      return globalThis.fetch(url, rest);
    }
    return globalThis.fetch(url, options);
  };
}

type ExtraClientMetadata = NonNullable<Configuration['extraClientMetadata']>;

/** One extraClientMetadata for both concerns: API access's properties and validator, and require_mfa's. */
function withMfaMetadata(apiAccess: ExtraClientMetadata): ExtraClientMetadata {
  return {
    properties: [...(apiAccess.properties ?? []), ...mfaClientMetadata.properties],
    validator: (ctx, key, value, metadata) => {
      mfaClientMetadata.validate(key, value);
      return apiAccess.validator?.(ctx, key, value, metadata);
    },
  };
}

/**
 * oidc-provider validates configured clients lazily, on first use; this validates them all at start
 * so a bad entry stops the start-up instead of failing a user's sign-in later.
 * @throws Error naming the client and what oidc-provider refused.
 */
export async function assertClientsValid(provider: Provider, clients: ClientMetadata[]): Promise<void> {
  for (const metadata of clients) {
    try {
      await provider.Client.validate(metadata);
    } catch (error) {
      const { error_description: description, message } = error as { error_description?: string; message?: string };
      throw new Error(`client "${metadata.client_id}": ${description ?? message}`, { cause: error });
    }
  }
}

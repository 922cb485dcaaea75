import { type Configuration, errors } from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import { grantableScopes } from './api-access.ts';

type Features = NonNullable<Configuration['features']>;
type LogoutFeature = NonNullable<Features['rpInitiatedLogout']>;

/** The logout pages people see, rendered by our views (src/pages/provider-pages.ts). */
export type LogoutPages = Pick<LogoutFeature, 'logoutSource' | 'postLogoutSuccessSource'>;

/**
 * oidc-provider features, each set explicitly.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#features
 */
export function featuresConfiguration(config: Pick<Config, 'protocol' | 'resources'>, logoutPages?: LogoutPages): Features {
  return {
    // The library's built-in login pages are for development only (ASVS 13.4.2).
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true, ...logoutPages },
    userinfo: { enabled: true },
    // OpenID Connect Core §5.5: an app may ask for individual claims (e.g. only `name`); they are
    // shown on the consent page and granted like scopes.
    claimsParameter: { enabled: true },
    // Service-to-service apps (RFC 6749 §4.4), for clients registered with that grant type.
    clientCredentials: { enabled: true },
    // RFC 7662. Authenticated like the token endpoint; a confidential client (a resource server)
    // may introspect any token, a public client only its own (oidc-provider's default rule).
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client?.clientId,
    },
    // RFC 7009. A client revokes only tokens issued to itself.
    revocation: {
      enabled: true,
      allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
    },
    // RFC 9126; per client with `require_pushed_authorization_requests`, or for all (IDP_REQUIRE_PAR).
    pushedAuthorizationRequests: {
      enabled: true,
      requirePushedAuthorizationRequests: config.protocol.requirePushedAuthorizationRequests,
    },
    // RFC 9449, on: a client that sends a DPoP proof gets sender-constrained tokens.
    dPoP: { enabled: true },
    resourceIndicators: resourceIndicators(config.resources),
    // OpenID Connect Back-Channel Logout 1.0: a client with backchannel_logout_uri receives a signed
    // logout token (with sid when it asks for backchannel_logout_session_required) when the session ends.
    backchannelLogout: { enabled: true },
  };
}

/**
 * Resource indicators (RFC 8707) for the APIs configured in IDP_RESOURCES: an access token asked for
 * with `resource=<indicator>` is a JWT (RFC 9068) with that audience, signed with the server's keys,
 * so the API verifies it offline against /jwks. Without a resource, access tokens stay opaque (and
 * revocable, introspectable). An unknown indicator is refused with invalid_target, and so is an API
 * the client is not registered for (client metadata resource_scopes, see api-access.ts); a scope of
 * the API the client is not registered for is refused with invalid_scope.
 */
function resourceIndicators(resources: Config['resources']): Features['resourceIndicators'] {
  const byIndicator = new Map(resources.map((resource) => [resource.indicator, resource]));
  return {
    enabled: true,
    defaultResource: async (_ctx, _client, oneOf) => oneOf,
    useGrantedResource: async () => true,
    getResourceServerInfo: async (ctx, indicator, client) => {
      const resource = byIndicator.get(indicator);
      if (!resource) throw new errors.InvalidTarget();
      return {
        scope: grantableScopes(ctx, client, resource).join(' '),
        audience: resource.indicator,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
        ...(resource.accessTokenTtl ? { accessTokenTTL: resource.accessTokenTtl } : {}),
      };
    },
  };
}

import type { Config } from '../config/schema.ts';
import { AppError } from '../errors.ts';
import { RESOURCE_SCOPES, type ResourceScopes, resourceScopesProblem } from '../oidc/configuration/api-access.ts';
import { REQUIRE_MFA } from '../oidc/configuration/authentication-level.ts';
import { SCOPES } from '../oidc/configuration/claims.ts';
import { FIRST_PARTY } from '../oidc/configuration/first-party.ts';
import { redirectUriProblem, webUrlProblem } from './redirect-uri.ts';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

/**
 * How a client authenticates at the token endpoint: the methods oidc-provider offers (its default
 * `clientAuthMethods`, advertised in discovery). `none` is a public client (PKCE only).
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#clientauthmethods
 */
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** The methods that prove a shared secret (sent, or as an HMAC key): only these clients have one. */
export function usesSecret(method: AuthMethod): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post' || method === 'client_secret_jwt';
}

/** A public JSON Web Key Set, as a private_key_jwt client registers it. */
export interface PublicJwks {
  keys: Array<Record<string, unknown>>;
}

/**
 * What an administrator says about a client (the clients tool, an apply file, the seed file);
 * turned into oidc-provider metadata by `toMetadata`.
 */
export interface ClientSpec {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** Default: client_secret_basic. */
  authMethod?: AuthMethod | undefined;
  grantTypes: string[];
  scope?: string | undefined;
  logoUri?: string | undefined;
  clientUri?: string | undefined;
  policyUri?: string | undefined;
  tosUri?: string | undefined;
  /** The APIs (IDP_RESOURCES indicators) the client may get access tokens for, with their scopes. */
  resourceScopes?: ResourceScopes | undefined;
  /** The client's public keys (private_key_jwt), inline or by URL; exactly one of them. */
  jwks?: PublicJwks | undefined;
  jwksUri?: string | undefined;
  /** OpenID Connect Back-Channel Logout 1.0: where the logout token goes, and whether it carries `sid`. */
  backchannelLogoutUri?: string | undefined;
  backchannelLogoutSessionRequired?: boolean | undefined;
  /** RFC 9126 §5: this client may only start sign-ins with a pushed authorization request. */
  requirePushedAuthorizationRequests?: boolean | undefined;
  /** The operator's own app: no consent screen, and offline_access without prompt=consent (first-party.ts). */
  firstParty?: boolean | undefined;
  /** Every sign-in to the client needs a second factor (metadata `require_mfa`). */
  requireMfa?: boolean | undefined;
}

export const authMethodOf = (spec: Pick<ClientSpec, 'authMethod'>): AuthMethod => spec.authMethod ?? 'client_secret_basic';

/** A spec the rules refuse; `field` is the metadata field at fault, for files that name a path. */
export class ClientSpecError extends AppError {
  readonly field: string;

  constructor(field: string, message: string) {
    super('invalid_input', message);
    this.name = 'ClientSpecError';
    this.field = field;
  }
}

/** oidc-provider client metadata for a spec, after our own rules (RFC 9700 §2.1, §2.6). */
export function toMetadata(given: ClientSpec, apis: Config['resources'] = [], supported: string[] = SCOPES): Record<string, unknown> {
  // An empty URL removes an optional one (`--logo-uri ""` on update).
  const spec = { ...given };
  for (const key of ['logoUri', 'clientUri', 'policyUri', 'tosUri', 'jwksUri', 'backchannelLogoutUri'] as const) {
    if (spec[key] === '') spec[key] = undefined;
  }
  const fail = (field: string, message: string): never => {
    throw new ClientSpecError(field, message);
  };
  if (!spec.name.trim()) fail('client_name', 'a client needs a name (--name)');
  const method = authMethodOf(spec);
  if (!(AUTH_METHODS as readonly string[]).includes(method))
    fail('token_endpoint_auth_method', `unknown token endpoint auth method "${method}"; use ${AUTH_METHODS.join(', ')}`);
  const grantTypes = [...new Set(spec.grantTypes.length > 0 ? spec.grantTypes : ['authorization_code'])];
  for (const grantType of grantTypes) {
    if (!(GRANT_TYPES as readonly string[]).includes(grantType))
      fail('grant_types', `unknown grant type "${grantType}"; use ${GRANT_TYPES.join(', ')}`);
  }
  const code = grantTypes.includes('authorization_code');
  if (grantTypes.includes('refresh_token') && !code) fail('grant_types', 'refresh_token needs authorization_code too');
  if (method === 'none' && grantTypes.includes('client_credentials'))
    fail('grant_types', 'a public client cannot use client_credentials: it has no secret');
  if (code && spec.redirectUris.length === 0) fail('redirect_uris', 'a client that signs people in needs at least one --redirect-uri');
  if (!code && spec.redirectUris.length > 0) fail('redirect_uris', 'redirect URIs are only for clients with the authorization_code grant');
  for (const [field, uris] of [
    ['redirect_uris', spec.redirectUris],
    ['post_logout_redirect_uris', spec.postLogoutRedirectUris],
  ] as const) {
    for (const uri of uris) {
      const problem = redirectUriProblem(uri);
      if (problem) fail(field, `redirect URI ${problem}`);
    }
  }
  for (const [field, flag, uri] of [
    ['logo_uri', '--logo-uri', spec.logoUri],
    ['client_uri', '--client-uri', spec.clientUri],
    ['policy_uri', '--policy-uri', spec.policyUri],
    ['tos_uri', '--tos-uri', spec.tosUri],
  ] as const) {
    if (uri !== undefined && !/^https:\/\/[^\s]+$/.test(uri)) fail(field, `${flag} must be an https URL, got "${uri}"`);
  }
  const scopes = spec.scope?.split(/\s+/).filter(Boolean) ?? [];
  for (const scope of scopes) if (!supported.includes(scope)) fail('scope', `unknown scope "${scope}"; use ${supported.join(', ')}`);
  const resourceScopes = spec.resourceScopes && spec.resourceScopes.length > 0 ? spec.resourceScopes : undefined;
  const apiProblem = resourceScopesProblem(resourceScopes, apis);
  if (apiProblem) fail(RESOURCE_SCOPES, apiProblem);
  checkKeys(spec, method, fail);
  if (spec.backchannelLogoutUri !== undefined) {
    const problem = webUrlProblem(spec.backchannelLogoutUri);
    if (problem) fail('backchannel_logout_uri', `--backchannel-logout-uri ${problem}`);
  }
  if (spec.backchannelLogoutSessionRequired && spec.backchannelLogoutUri === undefined)
    fail('backchannel_logout_session_required', 'the logout session flag needs a --backchannel-logout-uri');
  if (spec.requirePushedAuthorizationRequests && !code)
    fail('require_pushed_authorization_requests', 'pushed authorization requests are only for clients with the authorization_code grant');
  if (spec.firstParty && !code) fail(FIRST_PARTY, 'first-party is only for clients that sign people in (authorization_code)');

  return Object.fromEntries(
    Object.entries({
      client_name: spec.name.trim(),
      redirect_uris: spec.redirectUris,
      post_logout_redirect_uris: spec.postLogoutRedirectUris,
      grant_types: grantTypes,
      response_types: code ? ['code'] : [],
      token_endpoint_auth_method: method,
      scope: scopes.length > 0 ? scopes.join(' ') : undefined,
      logo_uri: spec.logoUri,
      client_uri: spec.clientUri,
      policy_uri: spec.policyUri,
      tos_uri: spec.tosUri,
      [RESOURCE_SCOPES]: resourceScopes,
      jwks: spec.jwks,
      jwks_uri: spec.jwksUri,
      backchannel_logout_uri: spec.backchannelLogoutUri,
      backchannel_logout_session_required:
        spec.backchannelLogoutUri === undefined ? undefined : (spec.backchannelLogoutSessionRequired ?? false),
      require_pushed_authorization_requests: spec.requirePushedAuthorizationRequests || undefined,
      [FIRST_PARTY]: spec.firstParty || undefined,
      [REQUIRE_MFA]: spec.requireMfa || undefined,
    }).filter(([, value]) => value !== undefined),
  );
}

/** private_key_jwt needs the client's public keys, inline or by URL, and only that method may have them. */
function checkKeys(spec: ClientSpec, method: AuthMethod, fail: (field: string, message: string) => never): void {
  if (method !== 'private_key_jwt') {
    if (spec.jwks !== undefined || spec.jwksUri !== undefined)
      fail(spec.jwks !== undefined ? 'jwks' : 'jwks_uri', 'keys (--jwks, --jwks-uri) are only for clients using private_key_jwt');
    return;
  }
  if ((spec.jwks === undefined) === (spec.jwksUri === undefined))
    fail('jwks', 'a private_key_jwt client needs its public keys: either --jwks (a JSON key set) or --jwks-uri, not both');
  if (spec.jwksUri !== undefined) {
    const problem = webUrlProblem(spec.jwksUri);
    if (problem) fail('jwks_uri', `--jwks-uri ${problem}`);
  }
  if (spec.jwks !== undefined) {
    const keys: unknown = (spec.jwks as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) fail('jwks', '--jwks must be a JSON key set: {"keys": [...]}, with at least one key');
    // A private or symmetric key here would be the client's secret, given away to this server.
    for (const key of keys as unknown[]) {
      if (typeof key !== 'object' || key === null || typeof (key as { kty?: unknown }).kty !== 'string')
        fail('jwks', '--jwks holds something that is not a JSON Web Key');
      if (['d', 'k', 'p', 'q', 'dp', 'dq', 'qi'].some((member) => Object.hasOwn(key as object, member)))
        fail('jwks', '--jwks must hold public keys only (a private or symmetric key stays with the client)');
    }
  }
}

/** The spec stored metadata describes (the inverse of toMetadata). */
export function fromMetadata(metadata: Record<string, unknown>): ClientSpec {
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const method = text(metadata.token_endpoint_auth_method);
  return {
    name: text(metadata.client_name) ?? '',
    redirectUris: strings(metadata.redirect_uris),
    postLogoutRedirectUris: strings(metadata.post_logout_redirect_uris),
    authMethod: (AUTH_METHODS as readonly string[]).includes(method ?? '') ? (method as AuthMethod) : undefined,
    grantTypes: strings(metadata.grant_types),
    scope: text(metadata.scope),
    logoUri: text(metadata.logo_uri),
    clientUri: text(metadata.client_uri),
    policyUri: text(metadata.policy_uri),
    tosUri: text(metadata.tos_uri),
    resourceScopes: metadata[RESOURCE_SCOPES] as ResourceScopes | undefined,
    jwks: metadata.jwks as PublicJwks | undefined,
    jwksUri: text(metadata.jwks_uri),
    backchannelLogoutUri: text(metadata.backchannel_logout_uri),
    backchannelLogoutSessionRequired: metadata.backchannel_logout_session_required === true ? true : undefined,
    requirePushedAuthorizationRequests: metadata.require_pushed_authorization_requests === true ? true : undefined,
    firstParty: metadata[FIRST_PARTY] === true ? true : undefined,
    requireMfa: metadata[REQUIRE_MFA] === true ? true : undefined,
  };
}

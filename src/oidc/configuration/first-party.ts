import { type Client, type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { ExtraClientMetadata } from './extra-client-metadata.ts';

/**
 * Client metadata `first_party`: the operator's own app, which people need not be asked about. Off
 * unless an administrator sets it (the clients tool, an apply file, the seed file). Such an app:
 * - gets no consent screen: what it asks for (its allowed scopes, claims and API scopes) is granted
 *   when the person signs in, as oidc-provider's documentation shows for first-party clients;
 * - gets a refresh token at sign-in when it is registered for the refresh_token grant, without
 *   `prompt=consent`, and that token outlives the sign-in session, as an offline_access one does.
 *   oidc-provider drops `offline_access` from a request without `prompt=consent` (OpenID Connect
 *   Core §11), so the refresh token follows the client's registration instead.
 * `prompt=consent` still shows the consent page (the app asked for it), and native apps are always
 * asked (oidc-provider's native_client_prompt).
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#loadexistinggrant
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#issuerefreshtoken
 */
export const FIRST_PARTY = 'first_party';

/** oidc-provider's extraClientMetadata share for `first_party`: a boolean. */
export function firstPartyMetadata(): ExtraClientMetadata {
  return {
    properties: [FIRST_PARTY],
    validator: (_ctx, key, value) => {
      if (key === FIRST_PARTY && value !== undefined && typeof value !== 'boolean')
        throw new errors.InvalidClientMetadata('first_party must be true or false');
    },
  };
}

/** Extra metadata keeps its own name on the client (oidc-provider camel-cases only its own properties). */
export function isFirstParty(client: Client | undefined): boolean {
  return (client as { [FIRST_PARTY]?: unknown } | undefined)?.[FIRST_PARTY] === true;
}

type Grant = InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']>;

/**
 * Adds to `grant` what this authorization request asks for, as the consent page would when the
 * person allows it: the OpenID Connect scopes and claims, and each API's requested scopes (which
 * oidc-provider has already limited to those the client is registered for).
 */
export async function grantRequested(ctx: KoaContextWithOIDC, grant: Grant): Promise<Grant> {
  const { oidc } = ctx;
  const scopes = [...oidc.requestParamOIDCScopes];
  if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
  const claims = [...oidc.requestParamClaims].filter((claim) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'].includes(claim));
  if (claims.length > 0) grant.addOIDCClaims(claims);
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const requested = [...oidc.requestParamScopes].filter((scope) => server.scopes.has(scope));
    if (requested.length > 0) grant.addResourceScope(indicator, requested.join(' '));
  }
  await grant.save();
  return grant;
}

type RefreshTokenSource = Parameters<NonNullable<Configuration['issueRefreshToken']>>[2];

/** A first-party client registered for refresh tokens is treated as having offline_access. */
function offline(client: Client | undefined, source: { scopes: Set<string> }): boolean {
  return source.scopes.has('offline_access') || (isFirstParty(client) && client?.grantTypeAllowed('refresh_token') === true);
}

/** oidc-provider's default rule (refresh_token grant and offline_access), or a first-party client's registration. */
export const issueRefreshToken: NonNullable<Configuration['issueRefreshToken']> = async (_ctx, client, source: RefreshTokenSource) =>
  client.grantTypeAllowed('refresh_token') && offline(client, source);

/** Tokens die with the sign-in session unless they are offline (the default rule, and first-party apps). */
export const expiresWithSession: NonNullable<Configuration['expiresWithSession']> = async (ctx, source) =>
  !offline(ctx.oidc.client, source);

import type { ClientMetadata, Configuration } from 'oidc-provider';
import { grantRequested, isFirstParty } from './first-party.ts';

/** The built-in client behind /account: it exists only to send people through our sign-in pages. */
export const ACCOUNT_CLIENT_ID = 'idp-account';

export function accountClient(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Your account',
    token_endpoint_auth_method: 'none',
    redirect_uris: [new URL('/account/callback', issuer).toString()],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  };
}

type LoadExistingGrant = NonNullable<Configuration['loadExistingGrant']>;

/**
 * oidc-provider's default grant lookup, plus: the account page is part of this service, so it is
 * granted `openid` without a consent screen; a first-party app (first-party.ts) is granted what it
 * asks for. Every other client still asks.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#loadexistinggrant
 */
export const loadExistingGrant: LoadExistingGrant = async (ctx) => {
  const { client, session, result, provider } = ctx.oidc;
  if (!client || !session?.accountId) return undefined;
  const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
  const existing = grantId ? await provider.Grant.find(grantId) : undefined;
  if (isFirstParty(client) && !result?.consent)
    return grantRequested(ctx, existing ?? new provider.Grant({ clientId: client.clientId, accountId: session.accountId }));
  if (grantId) return existing;
  if (client.clientId !== ACCOUNT_CLIENT_ID) return undefined;
  const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  grant.addOIDCScope('openid');
  await grant.save();
  return grant;
};

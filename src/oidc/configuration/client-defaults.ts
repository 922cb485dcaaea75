import type { Configuration } from 'oidc-provider';

/**
 * oidc-provider's own client defaults, plus auth_time in every ID token (OpenID Connect Core §2), so
 * apps can always tell how fresh a sign-in is. The benchmark's baseline uses the same.
 */
export const CLIENT_DEFAULTS: NonNullable<Configuration['clientDefaults']> = {
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
  require_auth_time: true,
};

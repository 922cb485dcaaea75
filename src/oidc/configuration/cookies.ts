import type { Configuration } from 'oidc-provider';

/**
 * oidc-provider's cookies. Over HTTPS they carry the prefixes browsers enforce (ASVS 5.0 3.3.1,
 * 3.3.3): `__Host-` for the session cookie (Secure, Path=/, no Domain, so no other host or path can
 * set it) and `__Secure-` for the interaction cookies, which are scoped to their own paths.
 * HttpOnly and SameSite=Lax: Lax, not Strict, because the session must reach the authorization
 * endpoint on the top-level cross-site navigation from an app. Signed with the cookie keys.
 *
 * `authorizationPost` (IDP_AUTHORIZATION_POST): an authorization request sent by a cross-site form
 * POST carries the session cookie only if it is SameSite=None, so oidc-provider accepts POST at the
 * authorization and logout endpoints only with that setting; the interaction cookies stay Lax.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#enablehttppostmethods
 */
export function cookiesConfiguration(issuer: string, keys: string[], authorizationPost = false): NonNullable<Configuration['cookies']> {
  const https = new URL(issuer).protocol === 'https:';
  const options = { httpOnly: true, sameSite: 'lax' as const };
  return {
    keys,
    long: authorizationPost ? { ...options, sameSite: 'none' as const } : options,
    short: options,
    ...(https ? { names: { session: '__Host-session', interaction: '__Secure-interaction', resume: '__Secure-interaction_resume' } } : {}),
  };
}

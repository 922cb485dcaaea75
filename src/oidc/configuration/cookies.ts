import type { Configuration } from 'oidc-provider';

/**
 * oidc-provider's cookies. Over HTTPS they carry the prefixes browsers enforce (ASVS 5.0 3.3.1,
 * 3.3.3): `__Host-` for the session cookie (Secure, Path=/, no Domain, so no other host or path can
 * set it) and `__Secure-` for the interaction cookies, which are scoped to their own paths.
 * HttpOnly and SameSite=Lax: Lax, not Strict, because the session must reach the authorization
 * endpoint on the top-level cross-site navigation from an app. Signed with the cookie keys.
 */
export function cookiesConfiguration(issuer: string, keys: string[]): NonNullable<Configuration['cookies']> {
  const https = new URL(issuer).protocol === 'https:';
  const options = { httpOnly: true, sameSite: 'lax' as const };
  return {
    keys,
    long: options,
    short: options,
    ...(https
      ? { names: { session: '__Host-session', interaction: '__Secure-interaction', resume: '__Secure-interaction_resume' } }
      : {}),
  };
}

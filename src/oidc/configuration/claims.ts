/**
 * The authentication context class of a sign-in here: "1" is single-factor authentication with a
 * password (the level Keycloak also calls 1). It is the only one we offer until a second factor is,
 * and it is in every ID token as `acr` (OpenID Connect Core §2), next to `amr: ["pwd"]`.
 */
export const ACR_PASSWORD = '1';
export const ACR_VALUES = [ACR_PASSWORD];

/** Scope → claims. `sub` is always returned. */
export const CLAIMS = {
  // amr tells the app how the person signed in (pwd, or fed through an upstream provider, RFC 8176),
  // idp which upstream (IDP_UPSTREAMS id) for a federated sign-in; auth_time and sid are added by oidc-provider.
  openid: ['sub', 'acr', 'amr', 'idp'],
  // name only when the person has one (set with `npm run users -- set-name`); oidc-provider omits
  // claims findAccount does not return.
  profile: ['name', 'preferred_username', 'updated_at'],
  email: ['email', 'email_verified'],
};

export const SCOPES = ['openid', 'offline_access', 'profile', 'email'];

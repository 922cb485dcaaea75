/**
 * The authentication context classes a sign-in here reaches (`acr`, OpenID Connect Core §2), in
 * order: "1" is one factor (a password), "2" two factors (a password and an authenticator app or a
 * recovery code or a passkey) or a passkey alone, which is possession plus the device's user
 * verification (NIST SP 800-63B-4 AAL2). Every ID token carries the level reached as `acr`, and how
 * as `amr` (RFC 8176). See authentication-level.ts for what decides the level a request needs.
 */
export const ACR_PASSWORD = '1';
export const ACR_MFA = '2';
export const ACR_VALUES = [ACR_PASSWORD, ACR_MFA];

/** Scope → claims. `sub` is always returned. */
export const CLAIMS = {
  // amr tells the app how the person signed in (pwd, otp, hwk, swk, user, mfa; fed through an upstream
  // identity provider, RFC 8176), idp which upstream (its IDP_UPSTREAMS id) for a federated sign-in;
  // auth_time and sid are added by oidc-provider.
  openid: ['sub', 'acr', 'amr', 'idp'],
  // name only when the person has one (set with `npm run users -- set-name`); oidc-provider omits
  // claims findAccount does not return.
  profile: ['name', 'preferred_username', 'updated_at'],
  email: ['email', 'email_verified'],
  // The groups (or roles) an administrator put the user in (npm run users -- add-group), for the
  // app's own authorization decisions; an empty list when none.
  groups: ['groups'],
};

export const SCOPES = ['openid', 'offline_access', 'profile', 'email', 'groups'];

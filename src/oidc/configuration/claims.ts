/** Scope → claims. `sub` is always returned. */
export const CLAIMS = {
  // amr tells the app how the person signed in (pwd); auth_time and sid are added by oidc-provider.
  openid: ['sub', 'amr'],
  // name only when the person has one (set with `npm run users -- set-name`); oidc-provider omits
  // claims findAccount does not return.
  profile: ['name', 'preferred_username', 'updated_at'],
  email: ['email', 'email_verified'],
};

export const SCOPES = ['openid', 'offline_access', 'profile', 'email'];

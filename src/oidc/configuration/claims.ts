/** Scope → claims. `sub` is always returned. */
export const CLAIMS = {
  openid: ['sub'],
  profile: ['preferred_username', 'updated_at'],
  email: ['email', 'email_verified'],
};

export const SCOPES = ['openid', 'offline_access', 'profile', 'email'];

import type { FindAccount } from 'oidc-provider';
import type { UserRepository } from '../storage/ports.ts';

/**
 * Resolves `sub` to the user's claims. Called on authorization, token exchange and userinfo, so it
 * reads one user by id; oidc-provider masks claims outside the granted scopes.
 * A disabled or deleted account resolves to undefined, which oidc-provider turns into
 * invalid_grant / invalid_token.
 */
export function createFindAccount(users: Pick<UserRepository, 'findById'>): FindAccount {
  return async function findAccount(_ctx, sub) {
    const user = await users.findById(sub);
    if (!user?.active) return undefined;
    return {
      accountId: user.id,
      async claims() {
        return {
          sub: user.id,
          preferred_username: user.username,
          ...(user.name ? { name: user.name } : {}),
          updated_at: Math.floor(user.updatedAt.getTime() / 1000),
          email: user.email,
          email_verified: user.emailVerified,
        };
      },
    };
  };
}

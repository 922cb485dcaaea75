import type { FindAccount } from 'oidc-provider';
import type { UserRepository } from '../storage/ports.ts';
import type { UpstreamLogins } from '../upstreams/upstream-logins.ts';

/**
 * Resolves `sub` to the user's claims. Called on authorization, token exchange and userinfo, so it
 * reads one user by id; oidc-provider releases only the claims of the granted scopes
 * (claim-scopes.ts), so every claim the account has may be offered here.
 * A disabled or deleted account resolves to undefined, which oidc-provider turns into
 * invalid_grant / invalid_token.
 */
export function createFindAccount(users: Pick<UserRepository, 'findById'>, upstreamLogins?: UpstreamLogins): FindAccount {
  return async function findAccount(_ctx, sub, token) {
    const user = await users.findById(sub);
    if (!user?.active) return undefined;
    return {
      accountId: user.id,
      async claims() {
        // `idp`: which upstream a federated sign-in (amr "fed") came through, from the code or refresh
        // token that carries that sign-in's time; the upstream's own tokens are never passed on.
        const federated = token && 'amr' in token && token.amr?.includes('fed') && typeof token.authTime === 'number';
        const idp = federated && upstreamLogins && token.authTime ? await upstreamLogins.which(user.id, token.authTime) : undefined;
        return {
          // Extra claims first: the server's own below always win (RESERVED_CLAIMS keeps them apart anyway).
          ...user.claims,
          groups: user.groups,
          ...(idp ? { idp } : {}),
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

import { sha256Base64url } from '../digest.ts';
import type { OneTimeTokenStore } from '../storage/ports.ts';

const PURPOSE = 'upstream-login';

/**
 * Which upstream a sign-in came through, for the `idp` claim. oidc-provider keeps only the account,
 * time, `amr` and `acr` of a sign-in (interactionFinished's login result), and copies them onto the
 * codes and refresh tokens it issues; so the upstream is kept here, under the account and that
 * sign-in time, for as long as a token of that sign-in may live.
 */
export interface UpstreamLogins {
  record(accountId: string, authTime: number, upstream: string): Promise<void>;
  which(accountId: string, authTime: number): Promise<string | undefined>;
}

export function createUpstreamLogins(tokens: OneTimeTokenStore, ttlSeconds: number): UpstreamLogins {
  const key = (accountId: string, authTime: number) => sha256Base64url(`${accountId}:${authTime}`);
  return {
    record: (accountId, authTime, upstream) => tokens.save(PURPOSE, key(accountId, authTime), { upstream }, ttlSeconds),
    async which(accountId, authTime) {
      return (await tokens.find(PURPOSE, key(accountId, authTime)))?.upstream;
    },
  };
}

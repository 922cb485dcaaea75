import type { AdapterPayload } from 'oidc-provider';
import type { Stores } from '../storage/ports.ts';

/**
 * A person's sign-in sessions and the grants (apps) they allowed, as one service for everything
 * that ends or revokes them: the account page, the users tool, password changes and resets, and
 * the consume guard's replay response.
 */
export interface UserSessions {
  /** Ends the person's sessions, all of them or all but `except`; returns how many ended. */
  endSessions(userId: string, options?: { except?: string }): Promise<number>;
  /** The person's grants, one per app allowed, as oidc-provider stored them. */
  grantsOf(userId: string): Promise<AdapterPayload[]>;
  /** Revokes a grant and every token issued under it (one set per grant in the store). */
  revokeGrant(grantId: string): Promise<void>;
  /** Ends every session and revokes every grant of the person (ASVS 5.0 7.4.2). */
  cutOff(userId: string): Promise<{ sessionsEnded: number; grantsRevoked: number }>;
}

export function createUserSessions(stores: Pick<Stores, 'oidcAdapter' | 'endSessionsOf' | 'grantsOf'>): UserSessions {
  const grants = stores.oidcAdapter('Grant');
  const revokeGrant = async (grantId: string) => {
    await grants.revokeByGrantId(grantId);
    await grants.destroy(grantId);
  };
  return {
    endSessions: (userId, options) => stores.endSessionsOf(userId, options),
    grantsOf: (userId) => stores.grantsOf(userId),
    revokeGrant,
    async cutOff(userId) {
      const owned = await stores.grantsOf(userId);
      for (const grant of owned) if (grant.jti) await revokeGrant(grant.jti);
      return { sessionsEnded: await stores.endSessionsOf(userId), grantsRevoked: owned.length };
    },
  };
}

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
  /**
   * Ends the person's sessions (all, or all but `exceptSession`) and revokes every grant with every
   * token issued under it, so no app keeps access (ASVS 5.0 7.4.2, 7.4.3): after a disable, a
   * deletion, or a password change or reset.
   */
  cutOff(userId: string, options?: { exceptSession?: string }): Promise<{ sessionsEnded: number; grantsRevoked: number }>;
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
    async cutOff(userId, { exceptSession } = {}) {
      const owned = await stores.grantsOf(userId);
      await Promise.all(owned.map((grant) => (grant.jti ? revokeGrant(grant.jti) : undefined)));
      const sessionsEnded = await stores.endSessionsOf(userId, exceptSession ? { except: exceptSession } : {});
      return { sessionsEnded, grantsRevoked: owned.length };
    },
  };
}

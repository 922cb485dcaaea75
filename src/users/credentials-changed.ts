import type { UserRecord, UserRepository } from '../storage/ports.ts';

/** What is known of a sign-in: when its factors were given (oidc-provider's loginTs, epoch s) and its session's uid. */
export interface SignInMoment {
  loginTs?: number | undefined;
  sessionUid?: string | undefined;
}

/**
 * Whether a sign-in still counts for the account: it does unless a credential changed after it (a
 * password change or reset, a factor added or removed, an administrator's reset or disable). Compared
 * in whole seconds, as oidc-provider keeps loginTs, so a sign-in in the very second of a change counts.
 * The session in which the person made the change themself stays: they proved who they are there.
 */
export function signInCounts(user: Pick<UserRecord, 'credentialsChangedAt' | 'credentialsChangedIn'>, signIn: SignInMoment): boolean {
  if (!user.credentialsChangedAt) return true;
  if (signIn.sessionUid !== undefined && signIn.sessionUid === user.credentialsChangedIn) return true;
  return (signIn.loginTs ?? 0) >= Math.floor(user.credentialsChangedAt.getTime() / 1000);
}

export interface CredentialChanges {
  /**
   * Records that a credential of the user changed: every sign-in given before `since` (default now)
   * must be given again, in every session and in every interaction that finished but was not yet
   * resumed, except in `keepSession` (the session uid where the person made the change themself).
   */
  mark(userId: string, options?: { since?: Date | undefined; keepSession?: string | undefined }): Promise<void>;
  /** Whether the account's sign-in of `signIn` still counts (a missing account: no). */
  counts(accountId: string, signIn: SignInMoment): Promise<boolean>;
}

/**
 * The "credentials changed at" of each account (Keycloak's not-before, per user). oidc-provider's
 * login prompt asks again for a sign-in that predates it (src/oidc/configuration/credentials-changed.ts),
 * and the account page treats such a session as signed out: so nothing begun with a credential that
 * was since replaced or removed (a stolen password, a lost phone) can be carried past the change, not
 * even an interaction staged before it and resumed after.
 */
export function createCredentialChanges(users: Pick<UserRepository, 'findById' | 'setCredentialsChangedAt'>): CredentialChanges {
  return {
    async mark(userId, { since = new Date(), keepSession } = {}) {
      await users.setCredentialsChangedAt(userId, since, keepSession);
    },
    async counts(accountId, signIn) {
      const user = await users.findById(accountId);
      return user !== undefined && signInCounts(user, signIn);
    },
  };
}

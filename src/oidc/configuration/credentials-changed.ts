import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { SignInMoment } from '../../users/credentials-changed.ts';

/** Whether the account's sign-in still counts (see src/users/credentials-changed.ts). */
export type SignInCounts = (accountId: string, signIn: SignInMoment) => Promise<boolean>;

/**
 * A check of oidc-provider's login prompt: a session whose sign-in was given before a credential of
 * its account changed (a password change or reset, a factor added or removed, an administrator's
 * reset-mfa or disable) is asked to sign in again (reason `credentials_changed`; `prompt=none` gets
 * `login_required`). It runs after an interaction is resumed too, when the session already holds the
 * resumed login and the time its factors were given (every login result we store carries `ts`): so a
 * sign-in finished before the change, and left waiting, cannot be turned into a session after it.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#interactionspolicy
 */
export function credentialsChangedCheck(signInCounts: SignInCounts): interactionPolicy.Check {
  return new interactionPolicy.Check(
    'credentials_changed',
    'a sign-in credential of the account changed since this sign-in',
    'login_required',
    async (ctx: KoaContextWithOIDC) => {
      const { session } = ctx.oidc;
      if (!session?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const counts = await signInCounts(session.accountId, { loginTs: session.loginTs, sessionUid: session.uid });
      return counts ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    },
  );
}

import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { noteRequest } from '../../logging/request-scope.ts';
import { levelOf } from '../../oidc/configuration/authentication-level.ts';
import type { UserRecord } from '../../storage/ports.ts';
import { signInCounts } from '../../users/credentials-changed.ts';
import type { UserService } from '../../users/user-service.ts';
import type { SessionSignIn } from './recent-sign-in.ts';

export interface SignedIn {
  sessionId: string;
  user: UserRecord;
  /** The sign-in behind the session: changes to sign-in methods need a recent one (recent-sign-in.ts). */
  signIn: SessionSignIn;
}

/**
 * Who is signed in, from oidc-provider's own session (its signed cookie and Session.find), so it is
 * the same sign-in the apps get; a disabled or deleted account is nobody, and so is a sign-in that
 * no longer counts because a credential of the account changed since (src/users/credentials-changed.ts),
 * as the login prompt's own check says for the apps: such a session is sent to sign in again. The
 * account is noted on the request, so its log lines name it.
 */
export function createSignedIn(provider: Provider, userService: Pick<UserService, 'findById'>) {
  return async function signedIn(ctx: Context): Promise<SignedIn | undefined> {
    const sessionId = ctx.cookies.get(provider.cookieName('session'), { signed: true });
    if (!sessionId) return undefined;
    const session = await provider.Session.find(sessionId);
    const user = session?.accountId ? await userService.findById(session.accountId) : undefined;
    if (!session || !user?.active) return undefined;
    const signIn = { uid: session.uid, loginTs: session.loginTs ?? 0, level: Math.max(1, levelOf(session.acr)) };
    if (!signInCounts(user, { loginTs: signIn.loginTs, sessionUid: signIn.uid })) return undefined;
    noteRequest({ accountId: user.id });
    return { sessionId, user, signIn };
  };
}

/** What the account page's CSRF tokens are bound to: the browser's session, which only it holds. */
export function accountCsrfBinding(sessionId: string): string {
  return `account:${sessionId}`;
}

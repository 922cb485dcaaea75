import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { noteRequest } from '../../logging/request-scope.ts';
import type { UserRecord } from '../../storage/ports.ts';
import type { UserService } from '../../users/user-service.ts';

export interface SignedIn {
  sessionId: string;
  user: UserRecord;
}

/**
 * Who is signed in, from oidc-provider's own session (its signed cookie and Session.find), so it is
 * the same sign-in the apps get; a disabled or deleted account is nobody. The account is noted on the
 * request, so its log lines name it.
 */
export function createSignedIn(provider: Provider, userService: Pick<UserService, 'findById'>) {
  return async function signedIn(ctx: Context): Promise<SignedIn | undefined> {
    const sessionId = ctx.cookies.get(provider.cookieName('session'), { signed: true });
    if (!sessionId) return undefined;
    const session = await provider.Session.find(sessionId);
    const user = session?.accountId ? await userService.findById(session.accountId) : undefined;
    if (!session || !user?.active) return undefined;
    noteRequest({ accountId: user.id });
    return { sessionId, user };
  };
}

/** What the account page's CSRF tokens are bound to: the browser's session, which only it holds. */
export function accountCsrfBinding(sessionId: string): string {
  return `account:${sessionId}`;
}

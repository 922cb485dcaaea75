import type { Context } from 'koa';
import type { UserRecord } from '../../storage/ports.ts';
import { type FactorStatus, hasSecondFactor, type SecondFactors } from '../../users/mfa/second-factors.ts';

/**
 * How recent the account page's sign-in must be to add, remove or change a way to sign in (GitHub's
 * "sudo mode" and Keycloak's re-authentication for sensitive actions work the same way, with a few
 * minutes' grace).
 */
export const RECENT_SIGN_IN_SECONDS = 10 * 60;

/** The sign-in behind the account page's session, as oidc-provider keeps it. */
export interface SessionSignIn {
  /** The session's stable uid (its id changes at each sign-in; the uid does not). */
  uid: string;
  /** When the sign-in's factors were given (epoch s; the ID token's auth_time). */
  loginTs: number;
  /** The level it reached: 1 one factor, 2 two (or a passkey). */
  level: number;
}

/** Where a fresh sign-in brings the person back to: fixed places only, never a URL from the request (no open redirect). */
const CONFIRM_TARGETS = {
  'two-step': '/account/two-step',
  factors: '/account#two-step-heading',
  passkeys: '/account#passkeys-heading',
  links: '/account#linked-heading',
} as const;

export type ConfirmTarget = keyof typeof CONFIRM_TARGETS;

export function isConfirmTarget(value: unknown): value is ConfirmTarget {
  return typeof value === 'string' && Object.hasOwn(CONFIRM_TARGETS, value);
}

export function confirmTargetPath(target: ConfirmTarget): string {
  return CONFIRM_TARGETS[target];
}

/**
 * The account's own strongest level: 2 once it has any second factor or passkey, else 1 (its
 * password, the only way in it has). Binding or removing a factor needs a sign-in at this level:
 * NIST SP 800-63B-4 §4.1.2 (an authenticator is bound after authenticating at the level it will be
 * used at) and ASVS 5.0 7.5.1 (re-authentication before changing authentication factors).
 */
export function strongestLevel(status: FactorStatus): 1 | 2 {
  return hasSecondFactor(status) ? 2 : 1;
}

/** Whether `signIn` was given in the last RECENT_SIGN_IN_SECONDS at `level` or above. */
export function isRecentAt(signIn: SessionSignIn, level: number, now = Math.floor(Date.now() / 1000)): boolean {
  return signIn.level >= level && now - signIn.loginTs <= RECENT_SIGN_IN_SECONDS;
}

/**
 * Sends the person through a fresh sign-in that brings them back to `target`: a form gets a redirect;
 * the browser's script (a JSON request) gets 403 with where to go, and goes there.
 */
export function askForRecentSignIn(ctx: Context, target: ConfirmTarget, { json = false }: { json?: boolean } = {}): void {
  const location = `/account/confirm?next=${target}`;
  if (json) {
    ctx.status = 403;
    ctx.body = { error: 'recent_sign_in_required', location };
    return;
  }
  ctx.status = 303;
  ctx.redirect(location);
}

/**
 * True when the session signed in recently enough at the account's own strongest level; otherwise
 * the person is sent through a fresh sign-in that brings them back to `target` (askForRecentSignIn).
 */
export async function requireRecentSignIn(
  ctx: Context,
  secondFactors: Pick<SecondFactors, 'status'>,
  who: { signIn: SessionSignIn; user: UserRecord },
  target: ConfirmTarget,
  { json = false }: { json?: boolean } = {},
): Promise<boolean> {
  if (isRecentAt(who.signIn, strongestLevel(await secondFactors.status(who.user)))) return true;
  askForRecentSignIn(ctx, target, { json });
  return false;
}

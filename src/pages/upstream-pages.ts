import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { languageOf } from '../http/locale.ts';
import type { MessageKey } from '../i18n/translate.ts';
import { ATTEMPT_TTL_SECONDS } from '../upstreams/sign-in-attempts.ts';
import type { UpstreamFailure } from '../upstreams/upstream-error.ts';

/**
 * What the upstream pages share: the two cookies of a trip to an upstream, and the page that says
 * it did not work (with a way back, never a stack trace).
 *
 * - The state cookie binds an attempt to the browser that started it: signed, HttpOnly, scoped to
 *   that upstream's callback path, SameSite=Lax (the upstream sends the browser back with a top-level
 *   GET, which carries Lax cookies). A callback whose state is not this browser's is refused, so
 *   nobody can sign a victim in with the attacker's account (login CSRF, RFC 9700 §4.7).
 * - The pending cookie carries the handle of a finished upstream sign-in to the interaction's pages:
 *   scoped to that interaction's path, like oidc-provider's own interaction cookie.
 */

const cookieOptions = (ctx: Context, path: string) => ({
  signed: true,
  httpOnly: true,
  sameSite: 'lax' as const,
  secure: ctx.secure,
  path,
  maxAge: ATTEMPT_TTL_SECONDS * 1000,
});

// Over https the __Secure- prefix makes browsers refuse the cookie from anything but a secure origin.
const stateCookie = (ctx: Context) => (ctx.secure ? '__Secure-upstream_state' : 'upstream_state');
const pendingCookie = (ctx: Context) => (ctx.secure ? '__Secure-upstream_pending' : 'upstream_pending');
const callbackPath = (upstream: string) => `/upstream/${upstream}/callback`;

export function setStateCookie(ctx: Context, upstream: string, state: string): void {
  ctx.cookies.set(stateCookie(ctx), state, cookieOptions(ctx, callbackPath(upstream)));
}

/** Reads and clears the state cookie: whatever happens next, it is not used again. */
export function takeStateCookie(ctx: Context, upstream: string): string | undefined {
  const value = ctx.cookies.get(stateCookie(ctx), { signed: true });
  ctx.cookies.set(stateCookie(ctx), null, { path: callbackPath(upstream), secure: ctx.secure });
  return value;
}

export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function setPendingCookie(ctx: Context, uid: string, handle: string): void {
  ctx.cookies.set(pendingCookie(ctx), handle, cookieOptions(ctx, `/interaction/${uid}`));
}

export function readPendingCookie(ctx: Context): string | undefined {
  return ctx.cookies.get(pendingCookie(ctx), { signed: true });
}

export function clearPendingCookie(ctx: Context, uid: string): void {
  ctx.cookies.set(pendingCookie(ctx), null, { path: `/interaction/${uid}`, secure: ctx.secure });
}

const FAILURE_MESSAGES: Record<UpstreamFailure | 'expired' | 'mismatch' | 'denied' | 'unknown' | 'throttled', MessageKey> = {
  unreachable: 'upstream.unreachable',
  invalid_response: 'upstream.invalidResponse',
  no_identity: 'upstream.noIdentity',
  expired: 'upstream.expired',
  mismatch: 'upstream.mismatch',
  denied: 'upstream.denied',
  unknown: 'upstream.unknown',
  throttled: 'error.tooManyRequests',
};

export type UpstreamProblem = keyof typeof FAILURE_MESSAGES;

/** Where "back" goes: the sign-in page of the interaction, the account page, or (not knowing) home. */
export type Back = { to: 'interaction'; uid: string } | { to: 'account' } | { to: 'home' };

/** Too many trips to upstreams from this address (they share the authorization requests' budget). */
export async function refuseTooManyStarts(ctx: Context, retryAfterSeconds: number, back: Back): Promise<void> {
  ctx.set('Retry-After', String(retryAfterSeconds));
  await renderUpstreamProblem(ctx, { problem: 'throttled', status: 429, minutes: Math.ceil(retryAfterSeconds / 60), back });
}

export async function renderUpstreamProblem(
  ctx: Context,
  {
    problem,
    status,
    name,
    error,
    minutes,
    back,
  }: { problem: UpstreamProblem; status: number; name?: string; error?: string; minutes?: number; back: Back },
): Promise<void> {
  const { t } = languageOf(ctx);
  ctx.status = status;
  await ctx.render('error', {
    title: name ? t('upstream.errorTitle', { name }) : t('upstream.errorTitleGeneric'),
    message: t(FAILURE_MESSAGES[problem], { name: name ?? '', error: error ?? '', minutes: minutes ?? 1 }),
    code: `upstream_${problem}`,
    requestId: ctx.state.requestId,
    ...(back.to === 'interaction' ? { backUrl: `/interaction/${back.uid}`, backLabel: t('upstream.back') } : {}),
    ...(back.to === 'account' ? { backUrl: '/account', backLabel: t('upstream.backToAccount') } : {}),
    showHomeLink: back.to === 'home',
  });
}

import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { setFlash } from '../http/flash.ts';
import { languageOf } from '../http/locale.ts';
import { noStore } from '../http/no-store.ts';
import type { UpstreamServices } from '../upstreams/create-upstream-services.ts';
import type { UpstreamIdentity } from '../upstreams/identity.ts';
import type { Attempt } from '../upstreams/sign-in-attempts.ts';
import { UpstreamError } from '../upstreams/upstream-error.ts';
import type { FactorChanges } from '../users/mfa/factor-changes.ts';
import type { SecondFactors } from '../users/mfa/second-factors.ts';
import type { UserService } from '../users/user-service.ts';
import { requireRecentSignIn } from './account/recent-sign-in.ts';
import { createSignedIn } from './account/signed-in.ts';
import { type Back, renderUpstreamProblem, sameSecret, setPendingCookie, takeStateCookie } from './upstream-pages.ts';

export interface UpstreamCallbackDeps {
  provider: Provider;
  upstreams: UpstreamServices;
  userService: Pick<UserService, 'findById'>;
  secondFactors: Pick<SecondFactors, 'status'>;
  /** A link made from the account page is a new way in: recorded, emailed to the owner, older sign-ins void. */
  factorChanges: FactorChanges;
  issuer: string;
}

/** An error code of RFC 6749 §4.1.2.1 is ASCII; anything else an upstream sends is not shown as it is. */
function errorCode(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : 'error';
}

/**
 * `<ISSUER>/upstream/<id>/callback`: where every upstream sends the browser back, one exact redirect
 * URI per upstream. In order, before anything is redeemed:
 *
 * 1. the state names an attempt that is still waiting, taken once (a replayed callback finds none);
 * 2. the attempt was made for this very upstream (a response meant for another is a mix-up);
 * 3. the attempt belongs to this browser (its signed state cookie);
 * 4. then openid-client checks `iss` (RFC 9207) where the upstream sends or promises it, redeems the
 *    code with the PKCE verifier and validates the ID token with the nonce.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.4 (mix-up), #section-4.7 (CSRF)
 */
export function createUpstreamCallbackRouter({
  provider,
  upstreams,
  userService,
  secondFactors,
  factorChanges,
  issuer,
}: UpstreamCallbackDeps): Router {
  const router = new Router({ prefix: '/upstream' });
  const log = upstreams.logger;
  const signedIn = createSignedIn(provider, userService);
  router.use(noStore);

  router.get('/:id/callback', async function upstreamCallback(ctx) {
    const id = ctx.params.id ?? '';
    const client = upstreams.clients.get(id);
    const { locale } = languageOf(ctx);
    if (!client) {
      log.warn({ event: 'upstream.callback_refused', reason: 'unknown_upstream', upstream: id.slice(0, 40) }, 'callback for no upstream');
      await renderUpstreamProblem(ctx, { problem: 'unknown', status: 404, back: { to: 'home' } });
      return;
    }
    const name = upstreams.nameOf(id, locale);
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const browserState = takeStateCookie(ctx, id);
    const attempt = state ? await upstreams.attempts.consume(state) : undefined;
    const refuse = async (reason: string, problem: 'expired' | 'mismatch', back: Back) => {
      log.warn({ event: 'upstream.callback_refused', reason, upstream: id, ip: ctx.ip }, 'upstream callback refused');
      await renderUpstreamProblem(ctx, { problem, status: 400, name, back });
    };
    if (!attempt) {
      await refuse(state ? 'unknown_or_used_state' : 'no_state', 'expired', { to: 'home' });
      return;
    }
    const back: Back = attempt.mode === 'login' ? { to: 'interaction', uid: attempt.uid } : { to: 'account' };
    if (attempt.upstream !== id) {
      await refuse('mix_up', 'mismatch', back);
      return;
    }
    if (!browserState || !sameSecret(browserState, state)) {
      await refuse('browser_mismatch', 'mismatch', back);
      return;
    }
    if (typeof ctx.query.error === 'string') {
      const error = errorCode(ctx.query.error);
      log.warn({ event: 'upstream.denied', upstream: id, error }, 'the upstream did not sign the person in');
      await renderUpstreamProblem(ctx, { problem: 'denied', status: 400, name, error, back });
      return;
    }

    let identity: UpstreamIdentity;
    try {
      // The URL as registered (built from ISSUER, never from the request's Host), with the response parameters.
      const callbackUrl = new URL(`${upstreams.redirectUri(id)}?${ctx.querystring}`);
      identity = await client.complete(callbackUrl, attempt);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      log.warn({ event: 'upstream.failed', upstream: id, reason: error.reason, detail: error.message }, 'upstream sign-in failed');
      await renderUpstreamProblem(ctx, { problem: error.reason, status: 502, name, back });
      return;
    }
    log.info({ event: 'upstream.returned', upstream: id, mode: attempt.mode }, 'upstream said who signed in');

    if (attempt.mode === 'login') {
      const handle = await upstreams.attempts.savePending({ uid: attempt.uid, identity });
      setPendingCookie(ctx, attempt.uid, handle);
      ctx.redirect(`/interaction/${attempt.uid}/upstream/continue`);
      return;
    }
    await linkToSignedInAccount(ctx, attempt, identity, name);
  });

  /** From the account page: link to the account still signed in in this browser, the one that asked. */
  async function linkToSignedInAccount(ctx: Context, attempt: Attempt & { mode: 'link' }, identity: UpstreamIdentity, name: string) {
    const who = await signedIn(ctx);
    const { t, locale } = languageOf(ctx);
    if (!who || who.sessionId !== attempt.sessionId || who.user.id !== attempt.userId) {
      log.warn({ event: 'upstream.callback_refused', reason: 'session_changed', upstream: identity.upstream }, 'link refused');
      await renderUpstreamProblem(ctx, { problem: 'mismatch', status: 400, name, back: { to: 'account' } });
      return;
    }
    // Asked again here: the trip to the upstream may have outlasted the recent sign-in the account page checked.
    if (!(await requireRecentSignIn(ctx, secondFactors, who, 'links'))) {
      log.warn({ event: 'upstream.callback_refused', reason: 'sign_in_not_recent', upstream: identity.upstream }, 'link refused');
      return;
    }
    const linked = await upstreams.accounts.link(who.user, identity);
    if (linked.ok) await factorChanges.changed(who.user, 'upstream_linked', { locale, name, keepSession: who.signIn.uid });
    setFlash(
      ctx,
      linked.ok
        ? { category: 'success', message: t('account.linkedOk', { name }) }
        : { category: 'error', message: t('account.linkTaken', { name }) },
    );
    ctx.redirect(new URL('/account', issuer).pathname);
  }

  return router;
}

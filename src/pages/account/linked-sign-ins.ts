import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Csrf } from '../../http/csrf.ts';
import { setFlash } from '../../http/flash.ts';
import { formFields, parseForm, refuseForgedForm } from '../../http/forms.ts';
import { languageOf } from '../../http/locale.ts';
import { noStore } from '../../http/no-store.ts';
import type { Locale } from '../../i18n/translate.ts';
import type { UserRecord } from '../../storage/ports.ts';
import type { UpstreamServices } from '../../upstreams/create-upstream-services.ts';
import { UpstreamError } from '../../upstreams/upstream-error.ts';
import type { FactorChanges } from '../../users/mfa/factor-changes.ts';
import type { SecondFactors } from '../../users/mfa/second-factors.ts';
import type { PasswordReset } from '../../users/password-reset.ts';
import type { UserService } from '../../users/user-service.ts';
import { refuseTooManyStarts, renderUpstreamProblem, setStateCookie } from '../upstream-pages.ts';
import { requireRecentSignIn } from './recent-sign-in.ts';
import { accountCsrfBinding, createSignedIn, type SignedIn } from './signed-in.ts';

/** What the account page shows about linked sign-ins. */
export interface LinkedSignInsView {
  links: Array<{ issuer: string; subject: string; name: string; label: string }>;
  /** Upstreams the person may still link. */
  available: Array<{ id: string; name: string }>;
}

export interface LinkedSignInsSection {
  view(user: UserRecord, locale: Locale): Promise<LinkedSignInsView>;
}

export function linkedSignInsSection(upstreams: UpstreamServices): LinkedSignInsSection {
  return {
    async view(user, locale) {
      const links = await upstreams.accounts.linksOf(user.id);
      const linkedUpstreams = new Set(links.map((link) => link.upstream));
      return {
        links: links.map((link) => ({
          issuer: link.issuer,
          subject: link.subject,
          name: upstreams.nameOf(link.upstream, locale),
          label: link.label ?? '',
        })),
        available: [...upstreams.clients.keys()]
          .filter((id) => !linkedUpstreams.has(id))
          .map((id) => ({ id, name: upstreams.nameOf(id, locale) })),
      };
    },
  };
}

export interface LinkedSignInsDeps {
  provider: Provider;
  upstreams: UpstreamServices;
  userService: Pick<UserService, 'findById'>;
  passwordReset: Pick<PasswordReset, 'request'>;
  secondFactors: Pick<SecondFactors, 'status'>;
  /** Every link added or removed: recorded, emailed to the owner, and older sign-ins stop counting. */
  factorChanges: FactorChanges;
  csrf: Csrf;
  logger: Logger;
}

/**
 * The account page's linked sign-ins: link another upstream (a trip to it, coming back through the
 * upstream callback to this account), remove a link (never the last way in of an account without a
 * password), and, for such an account, a link by email to set a password (the password reset flow).
 * A linked sign-in is a way in like a passkey: adding or removing one needs a recent sign-in at the
 * account's strongest level (recent-sign-in.ts), so a session alone (a stolen cookie, an unattended
 * browser) cannot add the attacker's own account elsewhere as a lasting way in, and the owner is
 * emailed about every change.
 */
export function createLinkedSignInsRouter({
  provider,
  upstreams,
  userService,
  passwordReset,
  secondFactors,
  factorChanges,
  csrf,
  logger,
}: LinkedSignInsDeps): Router {
  const router = new Router({ prefix: '/account' });
  const signedIn = createSignedIn(provider, userService);
  const log = logger.child({ module: 'account' });
  router.use(noStore);

  const guard = async (ctx: Context): Promise<SignedIn | undefined> => {
    const who = await signedIn(ctx);
    if (!who) {
      ctx.redirect('/account/sign-in');
      return undefined;
    }
    return (await refuseForgedForm(ctx, csrf, accountCsrfBinding(who.sessionId), 'form.expiredAccount')) ? undefined : who;
  };

  router.post('/links/add', parseForm, async function linkUpstream(ctx) {
    const who = await guard(ctx);
    if (!who || !(await requireRecentSignIn(ctx, secondFactors, who, 'links'))) return;
    const id = formFields(ctx).upstream ?? '';
    const client = upstreams.clients.get(id);
    if (!client) {
      await renderUpstreamProblem(ctx, { problem: 'unknown', status: 400, back: { to: 'account' } });
      return;
    }
    const { locale } = languageOf(ctx);
    const slot = await upstreams.starts.take(ctx.ip);
    if (!slot.ok) {
      log.warn({ event: 'upstream.throttled', upstream: id, ip: ctx.ip }, 'too many upstream sign-ins from the address');
      await refuseTooManyStarts(ctx, slot.retryAfterSeconds, { to: 'account' });
      return;
    }
    const secrets = await upstreams.attempts.start(id, { mode: 'link', userId: who.user.id, sessionId: who.sessionId });
    try {
      const url = await client.authorizationUrl(secrets, { redirectUri: upstreams.redirectUri(id), locale });
      setStateCookie(ctx, id, secrets.state);
      log.info({ event: 'upstream.started', upstream: id, userId: who.user.id, mode: 'link' }, 'sent to the upstream to link it');
      ctx.status = 303;
      ctx.redirect(url.href);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      log.warn({ event: 'upstream.failed', upstream: id, reason: error.reason, detail: error.message }, 'upstream link could not start');
      await renderUpstreamProblem(ctx, { problem: error.reason, status: 502, name: upstreams.nameOf(id, locale), back: { to: 'account' } });
    }
  });

  router.post('/links/remove', parseForm, async function unlinkUpstream(ctx) {
    const who = await guard(ctx);
    if (!who || !(await requireRecentSignIn(ctx, secondFactors, who, 'links'))) return;
    const { issuer = '', subject = '' } = formFields(ctx);
    const { t, locale } = languageOf(ctx);
    const link = (await upstreams.accounts.linksOf(who.user.id)).find((entry) => entry.issuer === issuer && entry.subject === subject);
    const result = link ? await upstreams.accounts.unlink(who.user.id, link) : 'not_found';
    const name = link ? upstreams.nameOf(link.upstream, locale) : '';
    if (result === 'removed') await factorChanges.changed(who.user, 'upstream_unlinked', { locale, name, keepSession: who.signIn.uid });
    if (result === 'removed') setFlash(ctx, { category: 'success', message: t('account.unlinked', { name }) });
    else setFlash(ctx, { category: 'error', message: t(result === 'last_way_in' ? 'account.unlinkLast' : 'account.unlinkGone') });
    ctx.redirect('/account');
  });

  router.post('/set-password', parseForm, async function sendSetPasswordLink(ctx) {
    const who = await guard(ctx);
    if (!who) return;
    const { t, locale } = languageOf(ctx);
    const sent = await passwordReset.request(who.user.email, ctx.ip, { locale });
    if (!sent.ok) ctx.set('Retry-After', String(sent.retryAfterSeconds));
    log.info({ event: 'account.set_password_requested', userId: who.user.id, sent: sent.ok }, 'password link requested');
    setFlash(
      ctx,
      sent.ok
        ? { category: 'success', message: t('account.setPasswordSent', { email: who.user.email }) }
        : { category: 'error', message: t('forgot.tooMany', { minutes: Math.ceil(sent.retryAfterSeconds / 60) }) },
    );
    ctx.redirect('/account');
  });

  return router;
}

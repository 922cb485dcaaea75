import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { SecurityEvents } from '../../audit/security-events.ts';
import type { Csrf } from '../../http/csrf.ts';
import { setFlash } from '../../http/flash.ts';
import { formFields, parseForm, refuseForgedForm } from '../../http/forms.ts';
import { languageOf } from '../../http/locale.ts';
import { noStore } from '../../http/no-store.ts';
import { describeScope } from '../../i18n/scopes.ts';
import { translateFields } from '../../i18n/translate.ts';
import { ACCOUNT_CLIENT_ID } from '../../oidc/configuration/account-client.ts';
import type { CredentialChanges } from '../../users/credentials-changed.ts';
import type { EmailVerification } from '../../users/email-verification.ts';
import type { FactorChanges } from '../../users/mfa/factor-changes.ts';
import type { Passkeys } from '../../users/mfa/passkeys.ts';
import type { SecondFactors } from '../../users/mfa/second-factors.ts';
import type { Profiles } from '../../users/profile.ts';
import type { UserSessions } from '../../users/sessions.ts';
import type { UserService } from '../../users/user-service.ts';
import { recentActivity } from './activity.ts';
import type { LinkedSignInsSection } from './linked-sign-ins.ts';
import { type ConfirmTarget, confirmTargetPath, isConfirmTarget, strongestLevel } from './recent-sign-in.ts';
import { addSecondFactorRoutes, secondFactorSections } from './second-factors.ts';
import { accountCsrfBinding, createSignedIn, type SignedIn } from './signed-in.ts';

export interface AccountRouterDeps {
  provider: Provider;
  userService: UserService;
  profiles: Profiles;
  verification: EmailVerification;
  sessions: UserSessions;
  secondFactors: SecondFactors;
  passkeys: Passkeys;
  factorChanges: FactorChanges;
  credentials: Pick<CredentialChanges, 'mark'>;
  csrf: Csrf;
  issuer: string;
  logger: Logger;
  /** Which scope releases which extra claim, to name them among an app's permissions. */
  claimScopes?: Record<string, string[]>;
  events: SecurityEvents;
  /** The linked sign-ins section (upstream identity providers), when the server has any. */
  linkedSignIns?: LinkedSignInsSection | undefined;
}

const STATE_COOKIE = 'account_state';

/**
 * The self-service account page (/account). Who is signed in comes from oidc-provider's own session
 * (its signed cookie and Session.find), so it is the same sign-in the apps get. Anyone else is sent
 * through a normal authorization request of the built-in "account" client, which shows our sign-in
 * pages and comes back here.
 */
export function createAccountRouter(deps: AccountRouterDeps): Router {
  const { provider, userService, profiles, verification, sessions, csrf, issuer, logger, events, linkedSignIns } = deps;
  const router = new Router({ prefix: '/account' });
  router.use(noStore);
  const log = logger.child({ module: 'account' });

  const signedIn = createSignedIn(provider, userService);

  const render = async (ctx: Context, who: SignedIn, extra: Record<string, unknown> = {}) => {
    const { t, locale } = languageOf(ctx);
    const [connected, activity] = await Promise.all([
      connectedApps(who.user.id),
      recentActivity(events, provider, who.user.id, { locale, t }),
    ]);
    const apps = connected.map((app) => ({ ...app, scopes: app.scopes.map((scope) => describeScope(t, scope, deps.claimScopes)) }));
    await ctx.render('account', {
      title: t('account.title'),
      user: who.user,
      hasPassword: who.user.passwordHash !== undefined,
      linked: linkedSignIns ? await linkedSignIns.view(who.user, locale) : undefined,
      apps,
      activity,
      activityDays: events.retentionDays,
      csrfToken: csrf.issue(accountCsrfBinding(who.sessionId)),
      profileErrors: {},
      passwordErrors: {},
      ...(await secondFactorSections(deps, who.user, t, locale)),
      ...extra,
    });
  };

  const connectedApps = async (accountId: string) => {
    const grants = await sessions.grantsOf(accountId);
    const apps = await Promise.all(
      grants
        .filter((grant) => grant.clientId && grant.clientId !== ACCOUNT_CLIENT_ID)
        .map(async (grant) => {
          const client = await provider.Client.find(String(grant.clientId));
          const openid = (grant as { openid?: { scope?: string } }).openid;
          return {
            grantId: String(grant.jti),
            name: client?.clientName ?? String(grant.clientId),
            scopes: (openid?.scope ?? '').split(' ').filter(Boolean),
          };
        }),
    );
    return apps.sort((a, b) => a.name.localeCompare(b.name));
  };

  /** Every account route needs a signed-in person; POSTs also a CSRF token bound to their session. */
  const guard = async (ctx: Context, post: boolean): Promise<SignedIn | undefined> => {
    const who = await signedIn(ctx);
    if (!who) {
      ctx.redirect('/account/sign-in');
      return undefined;
    }
    if (post && (await refuseForgedForm(ctx, csrf, accountCsrfBinding(who.sessionId), 'form.expiredAccount'))) return undefined;
    return who;
  };

  router.get('/', async function showAccount(ctx) {
    const who = await guard(ctx, false);
    if (who) await render(ctx, who);
  });

  /**
   * An authorization request of the account client, which shows our sign-in pages and comes back to
   * /account/callback. `confirm`: a fresh sign-in of a signed-in person (prompt=login, OpenID Connect
   * Core §3.1.2.1), with the second factor when the account has one (acr_values=2), before a change to
   * the ways they sign in; `next`: where the callback then brings them.
   */
  const startSignIn = (ctx: Context, { next, confirm }: { next?: ConfirmTarget; confirm?: { loginHint: string; level: number } } = {}) => {
    const state = randomBytes(16).toString('base64url');
    ctx.cookies.set(STATE_COOKIE, `${state}.${next ?? ''}`, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      path: '/account',
      maxAge: 10 * 60 * 1000,
      secure: ctx.secure,
    });
    const url = new URL('/auth', issuer);
    url.search = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: new URL('/account/callback', issuer).toString(),
      state,
      // PKCE is required of every client; this one never redeems its code (it only needs the
      // session the sign-in leaves behind), so the verifier is not kept.
      code_challenge: randomBytes(32).toString('base64url'),
      code_challenge_method: 'S256',
      ...(confirm ? { prompt: 'login', login_hint: confirm.loginHint, ...(confirm.level >= 2 ? { acr_values: '2' } : {}) } : {}),
    }).toString();
    ctx.redirect(url.pathname + url.search);
  };

  router.get('/sign-in', async function startAccountSignIn(ctx) {
    startSignIn(ctx);
  });

  /** "Confirm it is you": a fresh sign-in at the account's strongest level, then back to what the person was doing. */
  router.get('/confirm', async function confirmAccountSignIn(ctx) {
    const next = isConfirmTarget(ctx.query.next) ? ctx.query.next : undefined;
    const who = await signedIn(ctx);
    if (!who) {
      startSignIn(ctx, { next });
      return;
    }
    const level = strongestLevel(await deps.secondFactors.status(who.user));
    startSignIn(ctx, { next, confirm: { loginHint: who.user.username, level } });
  });

  router.get('/callback', async function accountSignedIn(ctx) {
    const [expected, next] = (ctx.cookies.get(STATE_COOKIE, { signed: true }) ?? '').split('.');
    ctx.cookies.set(STATE_COOKIE, null, { path: '/account' });
    if (!expected || ctx.query.state !== expected) {
      ctx.redirect('/');
      return;
    }
    if (typeof ctx.query.error === 'string') {
      // A confirmation the person cancelled: they are still signed in, back where they were.
      ctx.redirect(isConfirmTarget(next) ? '/account' : '/');
      return;
    }
    if (isConfirmTarget(next)) {
      setFlash(ctx, { category: 'info', message: languageOf(ctx).t('account.confirmed') });
      ctx.redirect(confirmTargetPath(next));
      return;
    }
    ctx.redirect('/account');
  });

  /** The verification link again, for an address not verified yet (within the verification email limits). */
  router.post('/verify-email', parseForm, async function resendVerification(ctx) {
    const who = await guard(ctx, true);
    if (!who) return;
    const { user } = who;
    if (!user.emailVerified) {
      const { locale, t } = languageOf(ctx);
      const sent = await verification.send(user, { locale, ip: ctx.ip }).catch((error: unknown) => {
        log.error({ event: 'mail.failed', err: error }, 'verification email not sent');
        return false;
      });
      setFlash(ctx, {
        category: sent ? 'success' : 'info',
        message: t(sent ? 'verify.resent' : 'verify.resendLimited', { email: user.email }),
      });
    }
    ctx.redirect('/account');
  });

  router.post('/profile', parseForm, async function updateProfile(ctx) {
    const who = await guard(ctx, true);
    if (!who) return;
    const result = await profiles.updateProfile(who.user, formFields(ctx), ctx.ip);
    if (!result.ok) {
      ctx.status = result.retryAfterSeconds ? 429 : 400;
      if (result.retryAfterSeconds) ctx.set('Retry-After', String(result.retryAfterSeconds));
      const values = { name: formFields(ctx).name ?? '', username: formFields(ctx).username ?? '', email: formFields(ctx).email ?? '' };
      await render(ctx, who, { profileErrors: translateFields(languageOf(ctx).t, result.errors), profileValues: values });
      return;
    }
    const { locale, t } = languageOf(ctx);
    if (result.emailChanged) {
      await verification
        .send(result.user, { locale, ip: ctx.ip })
        .catch((error: unknown) => log.error({ event: 'mail.failed', err: error }, 'verification email not sent'));
    }
    await events.record('account.profile_updated', { accountId: who.user.id, details: { emailChanged: result.emailChanged } });
    const message = result.emailChanged ? t('account.profileSavedVerify', { email: result.user.email }) : t('account.profileSaved');
    setFlash(ctx, { category: 'success', message });
    ctx.redirect('/account');
  });

  router.post('/password', parseForm, async function changePassword(ctx) {
    const who = await guard(ctx, true);
    if (!who) return;
    const result = await profiles.changePassword(who.user, formFields(ctx), ctx.ip);
    if (!result.ok) {
      ctx.status = result.retryAfterSeconds ? 429 : 400;
      if (result.retryAfterSeconds) ctx.set('Retry-After', String(result.retryAfterSeconds));
      await render(ctx, who, { passwordErrors: translateFields(languageOf(ctx).t, result.errors) });
      return;
    }
    // The person just proved the current password here, so this browser stays signed in; every other
    // session ends and every app must sign them in again (its tokens die with its grant), and a sign-in
    // given with the old password and not yet resumed no longer counts.
    await deps.credentials.mark(who.user.id, { keepSession: who.signIn.uid });
    const { sessionsEnded: ended, grantsRevoked } = await sessions.cutOff(who.user.id, { exceptSession: who.sessionId });
    await events.record('account.password_changed', { accountId: who.user.id, details: { sessionsEnded: ended, grantsRevoked } });
    const { t } = languageOf(ctx);
    const message = ended === 1 ? t('account.passwordChangedOne') : t('account.passwordChangedMany', { count: ended });
    setFlash(ctx, { category: 'success', message });
    ctx.redirect('/account');
  });

  router.post('/apps/revoke', parseForm, async function revokeApp(ctx) {
    const who = await guard(ctx, true);
    if (!who) return;
    const { t } = languageOf(ctx);
    const grantId = formFields(ctx).grantId ?? '';
    const grant = grantId ? await provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== who.user.id) {
      setFlash(ctx, { category: 'error', message: t('account.appGone') });
      ctx.redirect('/account');
      return;
    }
    await sessions.revokeGrant(grantId);
    const client = await provider.Client.find(grant.clientId ?? '');
    await events.record('account.app_revoked', { accountId: who.user.id, clientId: grant.clientId });
    setFlash(ctx, { category: 'success', message: t('account.appRevoked', { app: client?.clientName ?? String(grant.clientId) }) });
    ctx.redirect('/account');
  });

  addSecondFactorRoutes(router, {
    secondFactors: deps.secondFactors,
    passkeys: deps.passkeys,
    factorChanges: deps.factorChanges,
    guard,
    csrfToken: (who) => csrf.issue(accountCsrfBinding(who.sessionId)),
  });

  router.post('/sign-out-everywhere', parseForm, async function signOutEverywhere(ctx) {
    const who = await guard(ctx, true);
    if (!who) return;
    const ended = await sessions.endSessions(who.user.id);
    await events.record('account.signed_out_everywhere', { accountId: who.user.id, details: { sessionsEnded: ended } });
    await ctx.render('logged-out', { title: languageOf(ctx).t('loggedOut.title') });
  });

  return router;
}

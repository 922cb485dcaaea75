import { languageOf } from '../../http/locale.ts';
import { type Message, message } from '../../i18n/translate.ts';
import { noteRequest } from '../../logging/request-scope.ts';
import type { EmailVerification } from '../../users/email-verification.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';
import { afterPassword, type SignInDeps } from './second-step.ts';

/** One message for every failure, so a response never tells which part was wrong (ASVS 6.3.8). */
const INVALID_LOGIN = message('auth.invalid');
const DISABLED = message('auth.disabled');
const UNVERIFIED = message('auth.unverified');

interface LoginPage {
  status?: number;
  error?: Message;
  login?: string;
}

export async function renderLogin(ctx: InteractionContext, page: LoginPage = {}): Promise<void> {
  const { interaction, client } = ctx.state;
  const hint = interaction.params.login_hint;
  const { t } = languageOf(ctx);
  ctx.status = page.status ?? 200;
  await ctx.render('login', {
    title: t('login.title'),
    uid: interaction.uid,
    clientName: client.clientName ?? client.clientId,
    login: page.login ?? (typeof hint === 'string' ? hint : ''),
    error: page.error ? t(page.error.key, page.error.params) : undefined,
  });
}

export interface LoginDeps extends SignInDeps {
  verification: EmailVerification;
  requireVerifiedEmail: boolean;
}

/**
 * Checks the form through the user service, which counts the attempt before the password is
 * checked. An account waiting out its delay is answered exactly like a wrong password; only the
 * per-address limit, which says nothing about any account, tells the person to wait. A right
 * password finishes the sign-in only when no second factor is owed (see second-step.ts).
 */
export function submitLogin(deps: LoginDeps): InteractionMiddleware {
  const { userService, verification, requireVerifiedEmail, logger, events } = deps;
  return async function submitLoginForm(ctx) {
    if (ctx.state.interaction.prompt.name !== 'login') {
      ctx.redirect(`/interaction/${ctx.state.interaction.uid}`);
      return;
    }
    const login = formField(ctx, 'login');
    const result = await userService.authenticate(login, formField(ctx, 'password'), ctx.ip);
    if (!result.ok && result.reason === 'address_throttled') {
      await events.record('login.throttled', { details: { scope: 'ip', retryAfter: result.retryAfterSeconds } });
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      await renderLogin(ctx, { status: 429, error: message('auth.ipThrottled', { seconds: result.retryAfterSeconds }), login });
      return;
    }
    // A refusal is kept only when the login names an account; the write is not awaited, so the
    // answer takes no longer for an account than for a name nobody has (no enumeration by timing).
    if (!result.ok && result.reason === 'account_throttled') {
      void events.record('login.throttled', {
        accountId: result.accountId,
        details: { scope: 'account', retryAfter: result.retryAfterSeconds },
      });
      await renderLogin(ctx, { status: 401, error: INVALID_LOGIN, login });
      return;
    }
    if (!result.ok) {
      void events.record('login.failed', { accountId: result.accountId, details: { reason: result.reason } });
      await renderLogin(ctx, { status: 401, error: result.reason === 'disabled' ? DISABLED : INVALID_LOGIN, login });
      return;
    }
    noteRequest({ accountId: result.user.id });
    if (requireVerifiedEmail && !result.user.emailVerified) {
      const returnTo = `/interaction/${ctx.state.interaction.uid}`;
      await verification.send(result.user, { locale: languageOf(ctx).locale, ip: ctx.ip, returnTo }).catch((error: unknown) => {
        logger.error({ event: 'mail.failed', err: error, userId: result.user.id }, 'verification email not sent');
      });
      await renderLogin(ctx, { status: 403, error: UNVERIFIED, login });
      return;
    }
    // The sign-in succeeds (login.succeeded) when it is finished: here, or after the second step.
    logger.info({ event: 'login.password_accepted', accountId: result.user.id }, 'password accepted');
    await afterPassword(ctx, deps, result.user, {
      remember: formField(ctx, 'remember') === 'on',
      passkeyCapable: formField(ctx, 'webauthn') === '1',
    });
  };
}

import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { languageOf } from '../../http/locale.ts';
import { type Message, message } from '../../i18n/translate.ts';
import type { SignInResult } from '../../observability/metrics.ts';
import { ACR_PASSWORD } from '../../oidc/configuration/claims.ts';
import type { EmailVerification } from '../../users/email-verification.ts';
import type { UserService } from '../../users/user-service.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';

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

export interface LoginDeps {
  provider: Provider;
  userService: UserService;
  verification: EmailVerification;
  requireVerifiedEmail: boolean;
  logger: Logger;
  /** Told the result of every attempt (the metrics count them). */
  onSignIn?: ((result: SignInResult) => void) | undefined;
}

/**
 * Checks the form through the user service, which counts the attempt before the password is
 * checked. An account waiting out its delay is answered exactly like a wrong password; only the
 * per-address limit, which says nothing about any account, tells the person to wait.
 */
export function submitLogin({
  provider,
  userService,
  verification,
  requireVerifiedEmail,
  logger,
  onSignIn,
}: LoginDeps): InteractionMiddleware {
  return async function submitLoginForm(ctx) {
    if (ctx.state.interaction.prompt.name !== 'login') {
      ctx.redirect(`/interaction/${ctx.state.interaction.uid}`);
      return;
    }
    const login = formField(ctx, 'login');
    const result = await userService.authenticate(login, formField(ctx, 'password'), ctx.ip);
    if (!result.ok && result.reason === 'address_throttled') {
      logger.warn({ event: 'login.throttled', scope: 'ip', ip: ctx.ip, retryAfter: result.retryAfterSeconds }, 'sign-in throttled');
      onSignIn?.('throttled');
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      await renderLogin(ctx, { status: 429, error: message('auth.ipThrottled', { seconds: result.retryAfterSeconds }), login });
      return;
    }
    if (!result.ok && result.reason === 'account_throttled') {
      logger.warn({ event: 'login.throttled', scope: 'account', ip: ctx.ip, retryAfter: result.retryAfterSeconds }, 'sign-in throttled');
      onSignIn?.('throttled');
      await renderLogin(ctx, { status: 401, error: INVALID_LOGIN, login });
      return;
    }
    if (!result.ok) {
      logger.warn({ event: 'login.failed', reason: result.reason, ip: ctx.ip }, 'sign-in refused');
      onSignIn?.('failed');
      await renderLogin(ctx, { status: 401, error: result.reason === 'disabled' ? DISABLED : INVALID_LOGIN, login });
      return;
    }
    if (requireVerifiedEmail && !result.user.emailVerified) {
      const returnTo = `/interaction/${ctx.state.interaction.uid}`;
      await verification.send(result.user, { locale: languageOf(ctx).locale, ip: ctx.ip, returnTo }).catch((error: unknown) => {
        logger.error({ event: 'mail.failed', err: error, userId: result.user.id }, 'verification email not sent');
      });
      await renderLogin(ctx, { status: 403, error: UNVERIFIED, login });
      return;
    }
    logger.info({ event: 'login.succeeded', userId: result.user.id, ip: ctx.ip }, 'signed in');
    onSignIn?.('succeeded');
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: result.user.id, acr: ACR_PASSWORD, amr: ['pwd'], remember: formField(ctx, 'remember') === 'on' } },
      { mergeWithLastSubmission: false },
    );
  };
}

import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountService } from '../accounts/account-service.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';

/** One message for every failure, so a response never tells which part was wrong (ASVS 6.3.8). */
export const INVALID_LOGIN_MESSAGE = 'Invalid email/username or password.';
const DISABLED_MESSAGE = 'This account has been disabled. Contact the administrator of this service.';

interface LoginPage {
  status?: number;
  error?: string;
  login?: string;
}

export async function renderLogin(ctx: InteractionContext, page: LoginPage = {}): Promise<void> {
  const { interaction, client } = ctx.state;
  const hint = interaction.params.login_hint;
  ctx.status = page.status ?? 200;
  await ctx.render('login', {
    title: 'Sign in',
    uid: interaction.uid,
    clientName: client.clientName ?? client.clientId,
    login: page.login ?? (typeof hint === 'string' ? hint : ''),
    error: page.error,
  });
}

export function showLogin(): InteractionMiddleware {
  return async function showLoginPage(ctx) {
    await renderLogin(ctx);
  };
}

export function submitLogin(provider: Provider, accounts: AccountService, logger: Logger): InteractionMiddleware {
  return async function submitLoginForm(ctx) {
    if (ctx.state.interaction.prompt.name !== 'login') {
      ctx.redirect(`/interaction/${ctx.state.interaction.uid}`);
      return;
    }
    const login = formField(ctx, 'login');
    const result = await accounts.authenticate(login, formField(ctx, 'password'));
    if (!result.ok) {
      logger.warn({ event: 'login.failed', reason: result.reason, ip: ctx.ip }, 'sign-in refused');
      const error = result.reason === 'disabled' ? DISABLED_MESSAGE : INVALID_LOGIN_MESSAGE;
      await renderLogin(ctx, { status: 401, error, login });
      return;
    }
    logger.info({ event: 'login.succeeded', userId: result.user.id }, 'signed in');
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: result.user.id, amr: ['pwd'], remember: formField(ctx, 'remember') === 'on' } },
      { mergeWithLastSubmission: false },
    );
  };
}

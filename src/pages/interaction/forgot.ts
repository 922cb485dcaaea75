import { languageOf } from '../../http/locale.ts';
import { type Message, message } from '../../i18n/translate.ts';
import type { PasswordReset } from '../../users/password-reset.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';

interface ForgotPage {
  status?: number;
  /** A problem with the email field itself, shown next to it. */
  fieldError?: Message;
  /** A problem with the request as a whole (the rate limit). */
  error?: Message;
  email?: string;
}

async function renderForgot(ctx: InteractionContext, page: ForgotPage = {}) {
  const { t } = languageOf(ctx);
  const text = (value: Message | undefined) => (value ? t(value.key, value.params) : undefined);
  ctx.status = page.status ?? 200;
  await ctx.render('forgot', {
    title: t('forgot.title'),
    uid: ctx.state.interaction.uid,
    email: page.email ?? '',
    error: text(page.error),
    fieldError: text(page.fieldError),
  });
}

export function showForgot(): InteractionMiddleware {
  return async function showForgotPage(ctx) {
    await renderForgot(ctx);
  };
}

/**
 * "Forgot password?" from the sign-in page. The link sent by email leads back to this interaction,
 * so the person can finish signing in to the app they came from. The answer is the same whether
 * or not the address has an account.
 */
export function submitForgot(passwordReset: PasswordReset): InteractionMiddleware {
  return async function submitForgotForm(ctx) {
    const email = formField(ctx, 'email');
    if (email.trim() === '') {
      await renderForgot(ctx, { status: 400, fieldError: message('forgot.emailMissing') });
      return;
    }
    const { locale, t } = languageOf(ctx);
    const result = await passwordReset.request(email, ctx.ip, { returnTo: `/interaction/${ctx.state.interaction.uid}`, locale });
    if (!result.ok) {
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      const error = message('forgot.tooMany', { minutes: Math.ceil(result.retryAfterSeconds / 60) });
      await renderForgot(ctx, { status: 429, error, email });
      return;
    }
    await ctx.render('message', {
      title: t('forgot.sentTitle'),
      message: t('forgot.sent', { email: email.trim() }),
      actions: [{ href: `/interaction/${ctx.state.interaction.uid}`, label: t('forgot.back') }],
    });
  };
}

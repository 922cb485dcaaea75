import type { PasswordReset } from '../accounts/password-reset.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';

async function renderForgot(ctx: InteractionContext, page: { status?: number; error?: string; email?: string } = {}) {
  ctx.status = page.status ?? 200;
  await ctx.render('forgot', { title: 'Reset your password', uid: ctx.state.interaction.uid, email: page.email ?? '', error: page.error });
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
      await renderForgot(ctx, { status: 400, error: 'Enter the email address of your account.' });
      return;
    }
    const result = await passwordReset.request(email, ctx.ip, `/interaction/${ctx.state.interaction.uid}`);
    if (!result.ok) {
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      const error = `Too many reset requests from your network. Try again in ${Math.ceil(result.retryAfterSeconds / 60)} minutes.`;
      await renderForgot(ctx, { status: 429, error, email });
      return;
    }
    await ctx.render('message', {
      title: 'Check your email',
      message: `If an account exists for ${email.trim()}, we have sent it a link to reset the password. The link works once, for a short time.`,
    });
  };
}

import Router from '@koa/router';
import type { Context } from 'koa';
import type { PasswordReset } from '../accounts/password-reset.ts';
import type { Csrf } from './csrf.ts';
import { formField, parseForm, refuseForgedForm } from './forms.ts';

const INVALID_LINK = 'This password reset link is invalid, was already used or has expired. Ask for a new one from the sign-in page.';

/** The page a reset link opens: choose a new password. The link is used up only by a successful POST. */
export function createResetPasswordRouter(passwordReset: PasswordReset, csrf: Csrf): Router {
  const router = new Router();
  const invalidLink = async (ctx: Context) => {
    ctx.status = 400;
    await ctx.render('message', { title: 'Link not valid', message: INVALID_LINK });
  };
  const renderForm = async (ctx: Context, token: string, username: string, error?: string) => {
    ctx.status = error ? 400 : 200;
    await ctx.render('reset-password', { title: 'Choose a new password', token, username, error, csrfToken: csrf.issue(`reset:${token}`) });
  };

  router.use(async function noStoreResetPages(ctx, next) {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  router.get('/reset-password', async function showResetPassword(ctx) {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const user = await passwordReset.check(token);
    if (!user) return invalidLink(ctx);
    await renderForm(ctx, token, user.username);
  });

  router.post('/reset-password', parseForm, async function resetPassword(ctx) {
    const token = formField(ctx, 'token');
    if (await refuseForgedForm(ctx, csrf, `reset:${token}`, 'Open the link from your email again.')) return;
    const result = await passwordReset.reset(token, formField(ctx, 'password'), formField(ctx, 'confirmPassword'));
    if (!result.ok && result.reason === 'invalid_link') return invalidLink(ctx);
    if (!result.ok) {
      const user = await passwordReset.check(token);
      if (!user) return invalidLink(ctx);
      return renderForm(ctx, token, user.username, result.message);
    }
    await ctx.render('password-changed', { title: 'Password changed', returnTo: result.returnTo });
  });
  return router;
}

import Router from '@koa/router';
import type { Context } from 'koa';
import type { Csrf } from '../http/csrf.ts';
import { formField, parseForm, refuseForgedForm } from '../http/forms.ts';
import { languageOf } from '../http/locale.ts';
import { noStore } from '../http/no-store.ts';
import { type Message, translateFields } from '../i18n/translate.ts';
import type { PasswordReset } from '../users/password-reset.ts';

type ResetErrors = Partial<Record<'password' | 'confirmPassword', Message>>;

/** The page a reset link opens: choose a new password. The link is used up only by a successful POST. */
export function createResetPasswordRouter(passwordReset: PasswordReset, csrf: Csrf, passwordMinLength: number): Router {
  const router = new Router();
  const invalidLink = async (ctx: Context) => {
    const { t } = languageOf(ctx);
    ctx.status = 400;
    await ctx.render('message', { title: t('reset.invalidTitle'), message: t('reset.invalid') });
  };
  const renderForm = async (ctx: Context, token: string, username: string, errors: ResetErrors = {}) => {
    const { t } = languageOf(ctx);
    const text = translateFields(t, errors);
    ctx.status = Object.keys(text).length > 0 ? 400 : 200;
    await ctx.render('reset-password', {
      title: t('reset.title'),
      token,
      username,
      errors: text,
      passwordMinLength,
      csrfToken: csrf.issue(`reset:${token}`),
    });
  };

  router.use(noStore);

  router.get('/reset-password', async function showResetPassword(ctx) {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const user = await passwordReset.check(token);
    if (!user) return invalidLink(ctx);
    await renderForm(ctx, token, user.username);
  });

  router.post('/reset-password', parseForm, async function resetPassword(ctx) {
    const token = formField(ctx, 'token');
    if (await refuseForgedForm(ctx, csrf, `reset:${token}`, 'form.expiredLink')) return;
    const result = await passwordReset.reset(token, formField(ctx, 'password'), formField(ctx, 'confirmPassword'));
    if (!result.ok && result.reason === 'invalid_link') return invalidLink(ctx);
    if (!result.ok) {
      const user = await passwordReset.check(token);
      if (!user) return invalidLink(ctx);
      return renderForm(ctx, token, user.username, { [result.field]: result.message });
    }
    await ctx.render('password-changed', { title: languageOf(ctx).t('reset.doneTitle'), returnTo: result.returnTo });
  });
  return router;
}

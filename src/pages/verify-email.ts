import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Csrf } from '../http/csrf.ts';
import { formField, parseForm, refuseForgedForm } from '../http/forms.ts';
import { languageOf } from '../http/locale.ts';
import { noStore } from '../http/no-store.ts';
import type { EmailVerification } from '../users/email-verification.ts';
import type { UserService } from '../users/user-service.ts';
import { createSignedIn } from './account/signed-in.ts';

/**
 * GET shows a button and POST redeems the link: mail scanners that prefetch links must not use up
 * the single-use token. The CSRF token is bound to the link's token.
 */
export function createVerifyEmailRouter(
  verification: EmailVerification,
  csrf: Csrf,
  { provider, userService }: { provider: Provider; userService: Pick<UserService, 'findById'> },
): Router {
  const router = new Router();
  const signedIn = createSignedIn(provider, userService);
  router.use(noStore);

  router.get('/verify-email', async function showVerifyEmail(ctx) {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    await ctx.render('verify-email', { title: languageOf(ctx).t('verify.title'), token, csrfToken: csrf.issue(`verify:${token}`) });
  });

  router.post('/verify-email', parseForm, async function verifyEmail(ctx) {
    const { t } = languageOf(ctx);
    const token = formField(ctx, 'token');
    if (await refuseForgedForm(ctx, csrf, `verify:${token}`, 'form.expiredLink')) return;
    const account = { href: '/account', label: t('next.account') };
    const result = await verification.verify(token, { signedInAs: (await signedIn(ctx))?.user.id });
    if (result.verified) {
      // Back to the sign-in the link was sent from, when there was one; the account page always.
      const back = result.returnTo ? [{ href: result.returnTo, label: t('reset.continue'), primary: true }] : [];
      await ctx.render('message', { title: t('verify.doneTitle'), message: t('verify.done'), actions: [...back, account] });
      return;
    }
    if (result.reason === 'sign_in_first') {
      ctx.status = 403;
      await ctx.render('message', {
        title: t('verify.signInFirstTitle'),
        message: t('verify.signInFirst'),
        actions: [{ href: '/account/sign-in', label: t('verify.signIn'), primary: true }],
      });
      return;
    }
    ctx.status = 400;
    await ctx.render('message', {
      title: t('verify.invalidTitle'),
      message: t('verify.invalid'),
      actions: [{ ...account, primary: true }],
    });
  });
  return router;
}

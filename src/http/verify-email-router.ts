import Router from '@koa/router';
import type { EmailVerification } from '../accounts/email-verification.ts';
import type { Csrf } from './csrf.ts';
import { formField, parseForm, refuseForgedForm } from './forms.ts';

/**
 * GET shows a button and POST redeems the link: mail scanners that prefetch links must not use up
 * the single-use token. The CSRF token is bound to the link's token.
 */
export function createVerifyEmailRouter(verification: EmailVerification, csrf: Csrf): Router {
  const router = new Router();

  router.get('/verify-email', async function showVerifyEmail(ctx) {
    ctx.set('Cache-Control', 'no-store');
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    await ctx.render('verify-email', { title: 'Verify your email address', token, csrfToken: csrf.issue(`verify:${token}`) });
  });

  router.post('/verify-email', parseForm, async function verifyEmail(ctx) {
    ctx.set('Cache-Control', 'no-store');
    const token = formField(ctx, 'token');
    if (await refuseForgedForm(ctx, csrf, `verify:${token}`, 'Open the link from your email again.')) return;
    if (await verification.verify(token)) {
      await ctx.render('message', { title: 'Email verified', message: 'Thank you: your email address is verified.' });
      return;
    }
    ctx.status = 400;
    await ctx.render('message', {
      title: 'Link not valid',
      message: 'This verification link is invalid, was already used or has expired. Sign in to get a new one.',
    });
  });
  return router;
}

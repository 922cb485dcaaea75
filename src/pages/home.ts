import Router from '@koa/router';

/** The front page (where the discovery document is), and a plain sign-out link for people. */
export function createHomeRouter(issuer: string): Router {
  const router = new Router();
  const discoveryUrl = new URL('/.well-known/openid-configuration', issuer);
  router.get('/', async function home(ctx) {
    await ctx.render('home', { title: undefined, discoveryUrl });
  });
  // oidc-provider's end_session shows its confirmation page.
  router.get('/logout', async function logout(ctx) {
    ctx.redirect('/session/end');
  });
  return router;
}

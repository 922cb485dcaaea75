import type { Middleware } from 'koa';

/**
 * /favicon.ico, which every browser asks for on every page (a 404 there is a console error on each
 * one): the brand's logo when IDP_LOGO_URL sets one (a redirect, which browsers follow for icons),
 * else a small icon in the primary colour. The layout names the same icon (`link rel=icon`), so
 * browsers that honour it skip the guess.
 */
export function serveFavicon(branding: { logoUrl?: string | undefined; primaryColor: string }): Middleware {
  // The colour is #rrggbb (the configuration allows nothing else), so it is safe inside the SVG.
  const icon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${branding.primaryColor}"/><circle cx="16" cy="13" r="5" fill="none" stroke="#fff" stroke-width="2.5"/><path d="M8 26c1.5-4.5 4.5-6.5 8-6.5s6.5 2 8 6.5" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/></svg>`;
  return async function favicon(ctx, next) {
    if ((ctx.path !== '/favicon.ico' && ctx.path !== '/favicon.svg') || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.set('Cache-Control', 'public, max-age=86400');
    if (branding.logoUrl) {
      ctx.redirect(branding.logoUrl);
      return;
    }
    ctx.type = 'image/svg+xml';
    ctx.body = icon;
  };
}

import type { Middleware } from 'koa';

/**
 * Per-person and short-lived answers (sign-in pages, the account page, one-time links, health
 * probes) are never stored by a browser or proxy (ASVS 5.0 14.3.2).
 */
export const noStore: Middleware = async function noStore(ctx, next) {
  ctx.set('Cache-Control', 'no-store');
  await next();
};

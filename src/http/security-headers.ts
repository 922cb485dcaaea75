import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { Middleware } from 'koa';

/**
 * Security headers on every response (ASVS 3.4, RFC 9700 §4.16):
 * - CSP: only our own scripts, styles and images (https logos of clients allowed); no inline script;
 *   `frame-ancestors 'none'` against clickjacking; `object-src`/`base-uri 'none'`.
 *   `form-action` is deliberately absent: after a sign-in POST the browser follows redirects to the
 *   client's redirect_uri, which `form-action` would block (as oidc-provider's own example notes).
 * - Referrer-Policy no-referrer, so codes in URLs never leak through Referer (RFC 9700 §4.2.4).
 * - HSTS only when the request arrived over HTTPS (directly or through a trusted proxy).
 */
export function securityHeaders(): Middleware {
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'https:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: false,
    crossOriginResourcePolicy: false,
  });
  const apply = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<void>((resolve, reject) => {
      headers(req, res, (error?: unknown) => (error ? reject(error) : resolve()));
    });

  return async function setSecurityHeaders(ctx, next) {
    await apply(ctx.req, ctx.res);
    if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}

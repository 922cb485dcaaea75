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
 *
 * helmet decides the headers; with this static policy they are the same for every request, so they
 * are asked of helmet once and then copied onto each response (helmet per request cost about a tenth
 * of a JWKS request's CPU).
 */
export function securityHeaders(): Middleware {
  const headers = staticHeaders(
    helmet({
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
    }),
  );

  return async function setSecurityHeaders(ctx, next) {
    const response = ctx.res;
    for (const [name, value] of headers) response.setHeader(name, value);
    if (ctx.secure) response.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}

type Helmet = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * The headers helmet sets, read once from a recording response. Helmet only sets and removes
 * headers (removals, such as X-Powered-By, concern headers Koa never sends); a policy that needed the
 * request (a CSP nonce) would make this throw rather than silently serve a stale header.
 */
function staticHeaders(apply: Helmet): Array<[string, string]> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string | string[]) {
      headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    },
    removeHeader(name: string) {
      headers.delete(name);
    },
  };
  let done = false;
  apply({ headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, (error) => {
    if (error) throw error;
    done = true;
  });
  if (!done) throw new Error('the security header policy did not complete synchronously; it cannot be computed once');
  return [...headers];
}

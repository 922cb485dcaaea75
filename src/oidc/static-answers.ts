import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { sha256Base64url } from '../digest.ts';

/**
 * How long a client or a shared cache may keep discovery and the JWKS without asking again. Key
 * rotation (README, "Rotating the signing keys") waits far longer than this between its stages, so
 * a cached JWKS never misses a key that signs.
 */
export const STATIC_ANSWER_MAX_AGE_SECONDS = 300;

/**
 * Other origins than the issuer's whose answers are kept (a Host header is the client's to choose,
 * so they are bounded); a request naming yet another one is answered by oidc-provider itself.
 */
const MAX_OTHER_ORIGINS = 8;

interface Answer {
  body: Buffer;
  type: string;
  etag: string;
  /** The library's open CORS answered this request (it then answers every request with the caller's Origin, or *). */
  cors: boolean;
  exposeHeaders: string | undefined;
}

/**
 * Discovery and the JWKS are the same bytes for every request, for the life of the process: the
 * key set and the configuration are read once at start. oidc-provider still builds them at every
 * request, behind our whole middleware stack; here its first answer for each origin is kept (the
 * library builds discovery's endpoint URLs from the request's own origin, so a document is kept per
 * origin, for a few origins) and replayed with an ETag (a conditional request gets 304) and a
 * public Cache-Control. The library sets no caching headers of its own; both answers are public
 * (it sends `Access-Control-Allow-Origin: *`), so any cache may hold them.
 */
export function staticAnswers(provider: Provider, issuer: string): Middleware {
  const home = new URL(issuer).origin;
  // oidc-provider answers discovery at both well-known names (OpenID Connect Discovery 1.0 §4, RFC 8414 §3).
  // Each path with the route name oidc-provider gives it, which the metrics label requests with.
  const routes = new Map([
    ['/.well-known/openid-configuration', 'oidc:discovery'],
    ['/.well-known/oauth-authorization-server', 'oidc:discovery'],
    [provider.pathFor('jwks'), 'oidc:jwks'],
  ]);
  const answers = new Map<string, Answer>();
  let others = 0;

  return async function serveStaticAnswer(ctx, next) {
    const route = routes.get(ctx.path);
    if (!route || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    // In Koa 3 ctx.origin is the Origin request header; this is the request's own origin, from which oidc-provider builds its URLs.
    const origin = `${ctx.protocol}://${ctx.host}`;
    const key = `${origin}${ctx.path}`;
    let answer = answers.get(key);
    if (!answer) {
      await next();
      if (ctx.status !== 200) return;
      answer = capture(ctx.body, ctx.response.get('Content-Type'), {
        cors: ctx.response.get('Access-Control-Allow-Origin') !== '',
        exposeHeaders: ctx.response.get('Access-Control-Expose-Headers') || undefined,
      });
      if (!answer) return;
      if (origin === home) answers.set(key, answer);
      else if (others < MAX_OTHER_ORIGINS * routes.size) {
        others += 1;
        answers.set(key, answer);
      }
    }
    ctx.state.route = route;
    ctx.set('Cache-Control', `public, max-age=${STATIC_ANSWER_MAX_AGE_SECONDS}`);
    ctx.set('ETag', answer.etag);
    if (answer.cors) {
      // As oidc-provider's open CORS does: the caller's Origin, or * without one.
      ctx.vary('Origin');
      ctx.set('Access-Control-Allow-Origin', ctx.get('Origin') || '*');
      if (answer.exposeHeaders) ctx.set('Access-Control-Expose-Headers', answer.exposeHeaders);
    }
    if (ctx.get('If-None-Match') === answer.etag) {
      ctx.status = 304;
      ctx.body = null;
      return;
    }
    ctx.status = 200;
    ctx.type = answer.type;
    ctx.body = answer.body;
  };
}

/** The library answers with a JSON object (Koa serializes it); anything else is not kept. */
function capture(body: unknown, type: string, cors: Pick<Answer, 'cors' | 'exposeHeaders'>): Answer | undefined {
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body) || typeof (body as { pipe?: unknown }).pipe === 'function') {
    return undefined;
  }
  const json = JSON.stringify(body);
  return { body: Buffer.from(json), type, etag: `"${sha256Base64url(json).slice(0, 27)}"`, ...cors };
}

import type { Context, Middleware } from 'koa';
import { languageOf, useUiLocales } from '../http/locale.ts';
import type { MessageKey } from '../i18n/translate.ts';
import type { RateLimit } from '../rate-limit.ts';

export interface AuthorizationGuardOptions {
  /** The authorization endpoint's path (provider.pathFor('authorization')). */
  path: string;
  /** Longest value of any one parameter, in characters. */
  maxParameterLength: number;
  /** Authorization requests per client IP address per window. */
  perAddress: RateLimit;
}

/**
 * Bounds what one unauthenticated client can make the server store. Every authorization request
 * without a session makes oidc-provider store an interaction holding all of its parameters for the
 * interaction's lifetime; without bounds, a script can fill Redis (and with `noeviction`, stop every
 * sign-in) or the embedded mode's memory. So, before the request reaches oidc-provider:
 * - a parameter longer than `maxParameterLength` is refused with invalid_request (RFC 6749 §4.1.2.1;
 *   shown as a page, since the redirect URI is not yet validated and must not be trusted);
 * - each address may send so many authorization requests per window: then 429 with Retry-After.
 */
export function authorizationGuard({ path, maxParameterLength, perAddress }: AuthorizationGuardOptions): Middleware {
  return async function guardAuthorizationRequest(ctx, next) {
    if (ctx.path !== path || (ctx.method !== 'GET' && ctx.method !== 'POST')) return next();
    const tooLong = Object.entries(ctx.query).find(([, value]) => [value].flat().some((item) => (item ?? '').length > maxParameterLength));
    if (tooLong) {
      ctx.status = 400;
      const description = `the ${tooLong[0]} parameter is longer than ${maxParameterLength} characters`;
      return refuse(ctx, 'invalid_request', description, 'error.requestTooLarge');
    }
    const verdict = await perAddress.take(ctx.ip);
    if (!verdict.ok) {
      ctx.status = 429;
      ctx.set('Retry-After', String(verdict.retryAfterSeconds));
      return refuse(
        ctx,
        'temporarily_unavailable',
        'too many authorization requests from this address; retry later',
        'error.tooManyRequests',
        {
          minutes: Math.ceil(verdict.retryAfterSeconds / 60),
        },
      );
    }
    await next();
  };
}

async function refuse(
  ctx: Context,
  error: string,
  description: string,
  text: MessageKey,
  params?: Record<string, string | number>,
): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  if (ctx.accepts('html', 'json') === 'json') {
    ctx.body = { error, error_description: description };
    return;
  }
  // The app asked for a language (ui_locales); oidc-provider has not read the request yet.
  useUiLocales(ctx, ctx.query.ui_locales);
  const { t } = languageOf(ctx);
  await ctx.render('error', { title: t('error.protocolTitle'), message: t(text, params), code: error, description });
}

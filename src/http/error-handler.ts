import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { isAppError } from '../errors.ts';
import { languageOf } from './locale.ts';

interface HttpError {
  status?: number;
  expose?: boolean;
  message?: string;
}

/**
 * Last line of defence for our own routes (oidc-provider answers its own errors). A 4xx keeps its
 * message when it is marked `expose`; a 5xx is logged with the request id and shown as a generic
 * page. Never a stack trace.
 */
export function errorHandler(logger: Logger): Middleware {
  return async function handleErrors(ctx, next) {
    try {
      await next();
    } catch (caught) {
      const error = (typeof caught === 'object' && caught !== null ? caught : {}) as HttpError;
      const status = typeof error.status === 'number' && error.status >= 400 && error.status < 600 ? error.status : 500;
      const log = (ctx.state.logger as Logger | undefined) ?? logger;
      if (status >= 500) log.error({ err: caught }, 'request failed');
      const shown = status < 500 && error.expose;
      const message = shown && error.message ? error.message : undefined;
      const { t } = languageOf(ctx);
      // Our own errors say what happened in the person's language; others keep their exposed message.
      const text = shown && isAppError(caught) && caught.publicMessage ? t(caught.publicMessage.key, caught.publicMessage.params) : message;
      const code = status >= 500 ? 'server_error' : shown && isAppError(caught) ? caught.code : `http_${status}`;
      ctx.status = status;
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.body = { error: status >= 500 ? 'server_error' : 'invalid_request', error_description: text };
        return;
      }
      await ctx.render('error', {
        title: status >= 500 ? t('error.serverTitle') : t('error.requestTitle'),
        message: text ?? (status >= 500 ? t('error.server_error') : t('error.request')),
        code,
        requestId: ctx.state.requestId,
      });
    }
  };
}

/** No route matched: a plain 404 page, not an empty response. */
export const notFound: Middleware = async function notFound(ctx) {
  ctx.status = 404;
  if (ctx.accepts('html', 'json') === 'json') {
    ctx.body = { error: 'not_found' };
    return;
  }
  const { t } = languageOf(ctx);
  await ctx.render('error', { title: t('error.notFoundTitle'), message: t('error.notFound'), code: 'not_found', showHomeLink: true });
};

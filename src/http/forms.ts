import type { Context, Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { AppError } from '../errors.ts';
import { type MessageKey, message } from '../i18n/translate.ts';
import type { Csrf } from './csrf.ts';
import { languageOf } from './locale.ts';

/** URL-encoded forms only, and small: none of our forms needs more (request-size hygiene). */
const formBody = koaBody({ urlencoded: true, json: false, text: false, multipart: false, formLimit: '16kb' });

/**
 * Parses a form body. Whatever goes wrong while reading it (a Content-Encoding the body does not
 * match, an unknown encoding, a body over the limit) is the request's own fault: a 4xx with a clear
 * message, never a 500. Errors of the handlers that run after it are not touched.
 */
export const parseForm: Middleware = async function parseForm(ctx, next) {
  try {
    await formBody(ctx, async () => {});
  } catch (error) {
    throw unreadableBody(error);
  }
  await next();
};

function unreadableBody(error: unknown): AppError {
  const { status, message: text } = (typeof error === 'object' && error !== null ? error : {}) as { status?: unknown; message?: unknown };
  const detail = typeof text === 'string' ? text : 'unreadable';
  // raw-body and inflation mark their own errors with a 4xx (413 too large, 415 unknown encoding);
  // zlib's (a gzip, deflate or br header on a body that is not compressed) carry none.
  if (status === 413)
    return new AppError('invalid_body', `form body too large (${detail})`, { status, publicMessage: message('error.bodyTooLarge') });
  if (status === 415)
    return new AppError('invalid_body', `unsupported form body (${detail})`, { status, publicMessage: message('error.bodyEncoding') });
  return new AppError('invalid_body', `form body could not be read (${detail})`, {
    status: 400,
    publicMessage: message('error.bodyUnreadable'),
  });
}

/** The form's text fields; anything else (arrays, files) is dropped. */
export function formFields(ctx: Pick<Context, 'request'>): Record<string, string> {
  const body: unknown = ctx.request.body;
  if (typeof body !== 'object' || body === null) return {};
  return Object.fromEntries(Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** One text field of the form, or '' when absent or not text. */
export function formField(ctx: Pick<Context, 'request'>, name: string): string {
  return formFields(ctx)[name] ?? '';
}

/**
 * Every POST form's check: its CSRF token must belong to `binding`, and a browser must not have
 * marked the request cross-site (Fetch Metadata; ASVS 5.0 3.5.1, 3.5.3). A refused form gets a
 * "Form expired" page with `hint` (how to try again); returns whether it was refused.
 */
export async function refuseForgedForm(ctx: Context, csrf: Csrf, binding: string, hint: MessageKey): Promise<boolean> {
  if (csrf.verify(binding, formField(ctx, 'csrf')) && ctx.get('Sec-Fetch-Site') !== 'cross-site') return false;
  ctx.status = 403;
  const { t } = languageOf(ctx);
  await ctx.render('error', {
    title: t('form.expiredTitle'),
    message: `${t('form.expiredMessage')} ${t(hint)}`,
    code: 'csrf_failed',
  });
  return true;
}

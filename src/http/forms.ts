import type { Context } from 'koa';
import { koaBody } from 'koa-body';
import type { MessageKey } from '../i18n/translate.ts';
import type { Csrf } from './csrf.ts';
import { languageOf } from './locale.ts';

/** URL-encoded forms only, and small: none of our forms needs more (request-size hygiene). */
export const parseForm = koaBody({ urlencoded: true, json: false, text: false, multipart: false, formLimit: '16kb' });

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

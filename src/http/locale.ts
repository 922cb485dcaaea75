import type { Middleware } from 'koa';
import { chooseLocale } from '../i18n/negotiate.ts';
import { isLocale, type Locale, type Translate, translator } from '../i18n/translate.ts';

export interface PageLanguage {
  locale: Locale;
  t: Translate;
}

interface LocaleState {
  state: Record<string, unknown>;
  get(field: string): string;
  set(field: string, value: string): void;
}

/**
 * Puts the page language on ctx.state: `lang` (the html lang attribute), `t` (for the views) and
 * `locale`. Accept-Language decides here; the interaction pages refine it with ui_locales once the
 * interaction is loaded (useUiLocales).
 */
export function localize(defaultLocale: Locale): Middleware {
  return async function chooseLanguage(ctx, next) {
    setLanguage(ctx, chooseLocale({ acceptLanguage: ctx.get('Accept-Language'), fallback: defaultLocale }));
    ctx.vary('Accept-Language');
    await next();
  };
}

/** The language an OIDC request asked for with ui_locales, when we have it; else as before. */
export function useUiLocales(ctx: LocaleState, uiLocales: unknown): void {
  if (typeof uiLocales !== 'string') return;
  const fallback = languageOf(ctx).locale;
  setLanguage(ctx, chooseLocale({ uiLocales, acceptLanguage: ctx.get('Accept-Language'), fallback }));
}

function setLanguage(ctx: LocaleState, locale: Locale): void {
  ctx.state.locale = locale;
  ctx.state.lang = locale;
  ctx.state.t = translator(locale);
  ctx.set('Content-Language', locale);
}

/** The page language set by `localize`; English when a context never went through it. */
export function languageOf(ctx: { state: Record<string, unknown> }): PageLanguage {
  const { locale } = ctx.state;
  const chosen: Locale = isLocale(locale) ? locale : 'en';
  return { locale: chosen, t: translator(chosen) };
}

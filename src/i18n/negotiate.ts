import { isLocale, type Locale } from './translate.ts';

/** The first supported language in a list of BCP 47 tags, by exact code or by primary subtag. */
function firstSupported(tags: readonly string[]): Locale | undefined {
  for (const tag of tags) {
    const lower = tag.trim().toLowerCase();
    if (isLocale(lower)) return lower;
    const primary = lower.split('-')[0];
    if (isLocale(primary)) return primary;
  }
  return undefined;
}

/** Accept-Language tags by descending quality (RFC 9110 §12.5.4); `*` and q=0 say nothing useful. */
export function parseAcceptLanguage(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .slice(0, 32)
    .map((part, index) => {
      const [tag = '', ...options] = part.trim().split(';');
      const q = options.map((option) => /^\s*q=([0-9.]+)\s*$/.exec(option)?.[1]).find((value) => value !== undefined);
      return { tag: tag.trim(), quality: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => entry.tag !== '' && entry.tag !== '*' && entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
    .map((entry) => entry.tag);
}

export interface LocaleSources {
  /** The OIDC `ui_locales` parameter: space-separated tags in order of preference (OIDC Core §3.1.2.1). */
  uiLocales?: unknown;
  acceptLanguage?: string;
  fallback: Locale;
}

/** The page's language: what the app asked for (ui_locales), else what the browser asks for, else the default. */
export function chooseLocale({ uiLocales, acceptLanguage, fallback }: LocaleSources): Locale {
  const requested = typeof uiLocales === 'string' ? uiLocales.split(' ').filter(Boolean).slice(0, 16) : [];
  return firstSupported(requested) ?? firstSupported(parseAcceptLanguage(acceptLanguage)) ?? fallback;
}

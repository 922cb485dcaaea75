import { de } from './de.ts';
import { type Catalogue, en, type MessageKey } from './en.ts';
import { isLocale, LOCALES, type Locale } from './locales.ts';

export type { MessageKey } from './en.ts';
export { isLocale, LOCALES, type Locale };

/** Every complete language. Adding one: a catalogue typed `Catalogue`, its code in locales.ts, then here. */
export const CATALOGUES: Record<Locale, Catalogue> = { en, de };

export type MessageParams = Readonly<Record<string, string | number>>;

/**
 * What the domain returns instead of finished sentences: a key and its parameters, translated at
 * the edge into the language of the page or email that shows it.
 */
export interface Message {
  key: MessageKey;
  params?: MessageParams;
}

export type Translate = (key: MessageKey, params?: MessageParams) => string;

export function message(key: MessageKey, params?: MessageParams): Message {
  return params ? { key, params } : { key };
}

/** `{name}` placeholders are replaced by their parameter; an unknown one is left as written. */
export function translate(locale: Locale, key: MessageKey, params: MessageParams = {}): string {
  const template: string = CATALOGUES[locale][key] ?? en[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

export function translator(locale: Locale): Translate {
  return (key, params) => translate(locale, key, params);
}

/** A map of field messages (from the domain) as text in one language, for a form to show. */
export function translateFields<F extends string>(t: Translate, errors: Partial<Record<F, Message>>): Partial<Record<F, string>> {
  const out: Partial<Record<F, string>> = {};
  for (const field of Object.keys(errors) as F[]) {
    const value = errors[field];
    if (value) out[field] = t(value.key, value.params);
  }
  return out;
}

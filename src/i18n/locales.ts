/**
 * The complete languages, by code. Kept apart from the catalogues so that the configuration schema
 * (loaded by every command-line tool) can name them without loading every text.
 */
export const LOCALES = ['en', 'de'] as const;
export type Locale = (typeof LOCALES)[number];

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

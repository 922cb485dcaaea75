import { z } from 'zod';
import { LOCALES } from '../i18n/locales.ts';

/** A text shown to people, the same in every language or given per language ({"en": ..., "de": ...}). */
export const localizedText = z.union([
  z.string().min(1).max(200),
  z
    .partialRecord(z.enum(LOCALES), z.string().min(1).max(200))
    .refine((texts) => Object.keys(texts).length > 0, 'give at least one language'),
]);

/**
 * An image or page address: an https URL (any host: img-src allows https:) or a path on this server,
 * e.g. a file put under views/assets/ and served as /assets/<name>. A backslash is refused too:
 * browsers read "/\host" as "//host", another site.
 */
export const pathOrHttpsUrl = (example: string) =>
  z
    .string()
    .refine(
      (value) => /^\/(?![/\\])[^\s\\]*$/.test(value) || isHttpsUrl(value),
      `must be an https:// URL or a path on this server such as /assets/${example}`,
    );

export function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

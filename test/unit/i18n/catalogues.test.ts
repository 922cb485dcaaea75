import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { en } from '../../../src/i18n/en.ts';
import { CATALOGUES, LOCALES, translate } from '../../../src/i18n/translate.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
const englishKeys = Object.keys(en).sort();

describe('message catalogues', () => {
  test('there is English and at least one more complete language', () => {
    expect(LOCALES).toContain('en');
    expect(LOCALES.length).toBeGreaterThanOrEqual(2);
  });

  test.each(LOCALES.filter((locale) => locale !== 'en'))(
    '%s has exactly the English keys, each translated, with the same parameters',
    (locale) => {
      const catalogue: Record<string, string> = CATALOGUES[locale];
      expect(Object.keys(catalogue).sort()).toEqual(englishKeys);
      for (const key of englishKeys) {
        const text = catalogue[key] ?? '';
        expect(text.trim()).not.toBe('');
        expect({ key, params: placeholders(text) }).toEqual({ key, params: placeholders(en[key as keyof typeof en]) });
      }
    },
  );

  test('translate fills parameters and leaves unknown ones visible', () => {
    expect(translate('en', 'auth.ipThrottled', { seconds: 30 })).toBe(
      'Too many failed sign-in attempts from your network. Try again in 30 seconds.',
    );
    expect(translate('de', 'login.title')).toBe('Anmelden');
    expect(translate('en', 'register.created')).toBe('Account created. Welcome, {username}!');
  });

  test('every key the views and emails use exists in the catalogue', () => {
    const viewsDir = new URL('../../../views/', import.meta.url).pathname;
    const files = readdirSync(viewsDir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.pug'));
    const used = new Set<string>();
    for (const file of files) {
      for (const match of readFileSync(join(viewsDir, file), 'utf8').matchAll(/\bt\('([\w.]+)'/g)) used.add(match[1] ?? '');
    }
    expect(used.size).toBeGreaterThan(50);
    expect([...used].filter((key) => !Object.hasOwn(en, key))).toEqual([]);
  });
});

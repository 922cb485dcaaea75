import { describe, expect, test } from '@jest/globals';
import { chooseLocale, parseAcceptLanguage } from '../../../src/i18n/negotiate.ts';

describe('choosing the page language', () => {
  test('ui_locales wins, in its order, matching a region to its language', () => {
    expect(chooseLocale({ uiLocales: 'fr-CA de-AT en', acceptLanguage: 'en', fallback: 'en' })).toBe('de');
    expect(chooseLocale({ uiLocales: 'EN-gb', acceptLanguage: 'de', fallback: 'de' })).toBe('en');
  });

  test('then Accept-Language by quality, then the configured default', () => {
    expect(chooseLocale({ uiLocales: 'fr', acceptLanguage: 'fr;q=1, en;q=0.5, de;q=0.8', fallback: 'en' })).toBe('de');
    expect(chooseLocale({ acceptLanguage: 'fr, es', fallback: 'de' })).toBe('de');
    expect(chooseLocale({ acceptLanguage: '*', fallback: 'de' })).toBe('de');
    expect(chooseLocale({ acceptLanguage: 'de;q=0, en;q=0.1', fallback: 'de' })).toBe('en');
    expect(chooseLocale({ uiLocales: ['de'], fallback: 'en' })).toBe('en');
  });

  test('parses Accept-Language defensively', () => {
    expect(parseAcceptLanguage('da, en-GB;q=0.8, en;q=0.7')).toEqual(['da', 'en-GB', 'en']);
    expect(parseAcceptLanguage('')).toEqual([]);
    expect(parseAcceptLanguage(undefined)).toEqual([]);
    expect(parseAcceptLanguage(';;;,,, ;q=x')).toEqual([]);
  });
});

import { describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../../src/config/load-config.ts';
import { brandStylesheet, contrastRatio } from '../../../src/http/brand-stylesheet.ts';
import { CONFIG_DIR } from '../../support/test-config.ts';

function primaries(css: string): { light: string; dark: string } {
  const found = [...css.matchAll(/--primary: (#[0-9a-f]{6})/g)].map((match) => match[1] ?? '');
  const [light = '', dark = ''] = found;
  return { light, dark };
}

describe('brand stylesheet', () => {
  test('keeps a colour that already has AA contrast on both cards', () => {
    expect(primaries(brandStylesheet('#2250c8')).light).toBe('#2250c8');
  });

  test.each(['#ffcc00', '#00ff00', '#000000', '#ffffff', '#7f7f7f'])('adjusts %s to 4.5:1 on the light and the dark card', (color) => {
    const { light, dark } = primaries(brandStylesheet(color));
    expect(contrastRatio(light, '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(dark, '#1c212b')).toBeGreaterThanOrEqual(4.5);
  });

  test('the configuration accepts only #rrggbb, and https or local logos', () => {
    const load = (env: Record<string, string>) => loadConfig({ env, configDir: CONFIG_DIR });
    expect(load({ IDP_PRIMARY_COLOR: '#0A7d55', IDP_LOGO_URL: '/assets/logo.svg' }).ok).toBe(true);
    expect(load({ IDP_LOGO_URL: 'https://cdn.example.com/logo.png', IDP_TERMS_URL: 'https://example.com/terms' }).ok).toBe(true);
    for (const [name, value] of [
      ['IDP_PRIMARY_COLOR', 'red'],
      ['IDP_PRIMARY_COLOR', '#abc'],
      ['IDP_PRIMARY_COLOR', '#123456; } body { display: none'],
      ['IDP_LOGO_URL', 'http://example.com/logo.png'],
      ['IDP_LOGO_URL', '//evil.example/logo.png'],
      ['IDP_LOGO_URL', '/\\evil.example/logo.png'],
      ['IDP_LOGO_URL', 'javascript:alert(1)'],
      ['IDP_TERMS_URL', 'not a url'],
      ['IDP_DEFAULT_LOCALE', 'xx'],
    ] as const) {
      const result = load({ [name]: value });
      expect({ name, value, ok: result.ok }).toEqual({ name, value, ok: false });
      if (!result.ok) expect(result.errors.join('\n')).toContain(`(${name})`);
    }
  });
});

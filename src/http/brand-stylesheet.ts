import type { Middleware } from 'koa';

/** The card colours of views/assets/app.css, light and dark: the brand colour is checked against them. */
const LIGHT_SURFACE = '#ffffff';
const DARK_SURFACE = '#1c212b';
/** WCAG 2.2 SC 1.4.3: normal text needs 4.5:1 (links and button labels are normal text). */
const TEXT_CONTRAST = 4.5;

type Rgb = readonly [number, number, number];

function parseHex(hex: string): Rgb {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

function toHex(rgb: Rgb): string {
  return `#${rgb.map((channel) => Math.round(channel).toString(16).padStart(2, '0')).join('')}`;
}

/** Relative luminance, WCAG 2.2 definition. */
function luminance(rgb: Rgb): number {
  const [r, g, b] = rgb.map((channel) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}

export function contrastRatio(a: string, b: string): number {
  const la = luminance(parseHex(a));
  const lb = luminance(parseHex(b));
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function mix(a: Rgb, b: Rgb, weight: number): Rgb {
  return [a[0] + (b[0] - a[0]) * weight, a[1] + (b[1] - a[1]) * weight, a[2] + (b[2] - a[2]) * weight];
}

/** Mixes the colour toward black or white, in small steps, until it reaches the contrast asked for. */
function readableOn(color: string, surface: string, toward: Rgb): string {
  const start = parseHex(color);
  for (let step = 0; step <= 20; step += 1) {
    const candidate = toHex(mix(start, toward, step / 20));
    if (contrastRatio(candidate, surface) >= TEXT_CONTRAST) return candidate;
  }
  return toHex(toward);
}

/**
 * The operator's primary colour as CSS custom properties, adjusted where needed so that links and
 * button labels keep WCAG AA contrast on the light and on the dark card. A stylesheet rather than an
 * inline style, because the CSP allows styles from 'self' only.
 */
export function brandStylesheet(primaryColor: string): string {
  const light = readableOn(primaryColor, LIGHT_SURFACE, [0, 0, 0]);
  const dark = readableOn(primaryColor, DARK_SURFACE, [255, 255, 255]);
  return [
    '/* Generated from IDP_PRIMARY_COLOR; adjusted for contrast where needed. */',
    `:root { --primary: ${light}; --primary-text: #ffffff; }`,
    `@media (prefers-color-scheme: dark) { :root { --primary: ${dark}; --primary-text: #0c1222; } }`,
    '',
  ].join('\n');
}

/** Serves the generated stylesheet at /assets/brand.css (computed once: the colour is configuration). */
export function serveBrandStylesheet(primaryColor: string): Middleware {
  const css = brandStylesheet(primaryColor);
  return async function brandCss(ctx, next) {
    if (ctx.path !== '/assets/brand.css' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = css;
  };
}

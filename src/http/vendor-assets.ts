import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Middleware } from 'koa';

/**
 * Browser code we take from a package rather than copy into the repository: @simplewebauthn/browser's
 * single-file build, served from our own origin (the CSP allows scripts from 'self' only, and the
 * sign-in pages load nothing from third parties). Read once; its version is pinned by the lockfile.
 */
const require = createRequire(import.meta.url);
const FILES: Record<string, string> = {
  // The package's exports hide dist/, so the file is found from its entry point.
  '/assets/vendor/simplewebauthn-browser.js': join(
    dirname(require.resolve('@simplewebauthn/browser')),
    '..',
    'dist',
    'bundle',
    'index.umd.min.js',
  ),
};
const cache = new Map<string, Buffer>();

export const serveVendorAssets: Middleware = async function serveVendorAssets(ctx, next) {
  const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? FILES[ctx.path] : undefined;
  if (!file) {
    await next();
    return;
  }
  let body = cache.get(file);
  if (!body) {
    body = readFileSync(file);
    cache.set(file, body);
  }
  ctx.type = 'text/javascript';
  ctx.set('Cache-Control', 'public, max-age=3600');
  ctx.body = body;
};

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type RunningApp, startTestApp } from '../support/test-app.ts';

/** A GET with a Host of our choosing (fetch does not let a test set Host). */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Discovery and JWKS come from bytes kept after the library's first answer, before the page middleware. */
describe('discovery and JWKS answers', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  test.each(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/jwks'])(
    '%s: the same bytes every time, with an ETag, a public max-age and the security headers',
    async (path) => {
      const first = await get(`${app.url}${path}`);
      const second = await get(`${app.url}${path}`);
      expect(first.status).toBe(200);
      expect(second.body).toBe(first.body);
      expect(JSON.parse(first.body)).toEqual(expect.any(Object));
      for (const answer of [first, second]) {
        expect(answer.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
        expect(answer.headers['cache-control']).toBe('public, max-age=300');
        expect(answer.headers['access-control-allow-origin']).toBe('*');
        expect(answer.headers['content-security-policy']).toContain("frame-ancestors 'none'");
        expect(answer.headers['x-request-id']).toEqual(expect.any(String));
      }
      expect(second.headers.etag).toBe(first.headers.etag);
      // oidc-provider's open CORS names the caller's origin when there is one, and varies on it.
      const fromApp = await get(`${app.url}${path}`, { Origin: 'https://app.example' });
      expect(fromApp.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(String(fromApp.headers.vary)).toMatch(/Origin/);

      const conditional = await get(`${app.url}${path}`, { 'If-None-Match': String(first.headers.etag) });
      expect(conditional.status).toBe(304);
      expect(conditional.body).toBe('');
      const stale = await get(`${app.url}${path}`, { 'If-None-Match': '"another"' });
      expect(stale.status).toBe(200);
      expect(stale.body).toBe(first.body);
    },
  );

  test('discovery keeps the library’s per-origin URLs, and a foreign Host does not change the issuer’s document', async () => {
    const issuerHost = new URL(app.url).host;
    const ours = JSON.parse((await get(`${app.url}/.well-known/openid-configuration`)).body) as Record<string, string>;
    expect(ours.issuer).toBe(app.url);
    expect(ours.token_endpoint).toBe(`${app.url}/token`);

    const foreign = JSON.parse((await get(`${app.url}/.well-known/openid-configuration`, { Host: 'other.example' })).body) as Record<
      string,
      string
    >;
    expect(foreign.token_endpoint).toBe('http://other.example/token');

    const again = JSON.parse((await get(`${app.url}/.well-known/openid-configuration`, { Host: issuerHost })).body) as Record<
      string,
      string
    >;
    expect(again).toEqual(ours);
  });

  test('the app endpoints skip the pages but still draw an HTML error page, in the browser’s language', async () => {
    const response = await fetch(`${app.url}/token`, {
      method: 'POST',
      headers: { Accept: 'text/html', 'Accept-Language': 'de', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=nobody',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('<html lang="de"');
    expect(html).toContain('invalid_client');
    expect(html).not.toMatch(/at .*\.ts:\d+/);

    const json = await fetch(`${app.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=nobody',
    });
    expect(json.status).toBe(401);
    expect(await json.json()).toMatchObject({ error: 'invalid_client' });
    expect(json.headers.get('content-security-policy')).toContain("default-src 'self'");
  });
});

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as cheerio from 'cheerio';
import { startRedis, type TestService } from '../../scripts/lib/local-services.ts';
import { useTestApp } from '../support/app-fixture.ts';
import { newAccount, openAuthorization, RelyingParty, registerAndConsent, rpClient } from '../support/relying-party.ts';
import { expectPage, UserAgent } from '../support/user-agent.ts';

describe('HTTP edges: headers, health, errors', () => {
  let ownRedis: TestService;
  const client = rpClient();
  const logLines: string[] = [];

  beforeAll(async () => {
    // A Redis of this test's own, so it can be stopped to check readiness.
    ownRedis = await startRedis();
  });
  const app = useTestApp('http-edges', () => ({ backends: { redisUrl: ownRedis.url }, clients: () => [client], logLines }));
  afterAll(async () => {
    await ownRedis?.stop();
  });

  test('every page sends the security headers; interaction pages are never cached', async () => {
    const rp = await RelyingParty.discover(app.server.url, client);
    const loginPage = await openAuthorization(new UserAgent(), await rp.authorize());
    const home = await fetch(app.server.url);
    const missing = await fetch(new URL('/nope', app.server.url), { headers: { Accept: 'text/html' } });
    await Promise.all([home.text(), missing.text()]); // an unread body would keep its socket open
    for (const headers of [loginPage.headers, home.headers, missing.headers]) {
      const csp = headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("base-uri 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(headers.get('strict-transport-security')).toBeNull(); // plain http here
    }
    expect(loginPage.headers.get('cache-control')).toBe('no-store');
    expect(loginPage.html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
  });

  test('HSTS is sent when the request came over HTTPS through a trusted proxy', async () => {
    const proxied = await app.start({ env: { TRUST_PROXY: 'true' } });
    try {
      const response = await fetch(new URL('/healthz', proxied.url), { headers: { 'X-Forwarded-Proto': 'https' } });
      expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      const untrusted = await fetch(new URL('/healthz', app.server.url), { headers: { 'X-Forwarded-Proto': 'https' } });
      expect(untrusted.headers.get('strict-transport-security')).toBeNull();
      await Promise.all([response.text(), untrusted.text()]);
    } finally {
      await proxied.close();
    }
  });

  test('the stylesheet is served by this server; templates are not', async () => {
    const css = await fetch(new URL('/assets/app.css', app.server.url));
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    await css.text();
    for (const path of ['/assets/../login.pug', '/assets/%2e%2e/login.pug', '/login.pug']) {
      const response = await fetch(new URL(path, app.server.url));
      expect(response.status).toBe(404);
      await response.text();
    }
  });

  test('unknown paths get a 404 page (HTML) or a JSON error, never a stack trace', async () => {
    const html = await fetch(new URL('/no/such/page', app.server.url), { headers: { Accept: 'text/html' } });
    expect(html.status).toBe(404);
    expect(await html.text()).toContain('Page not found');
    const json = await fetch(new URL('/no/such/page', app.server.url), { headers: { Accept: 'application/json' } });
    expect(json.status).toBe(404);
    expect(await json.json()).toEqual({ error: 'not_found' });
  });

  describe('a form sent with a Content-Encoding its body does not have', () => {
    // Plain form text under a gzip, deflate or br header: zlib fails on it inside the body parser.
    const body = 'login=someone&password=not+compressed+at+all&csrf=x.y';
    const messages: Record<number, string> = {
      400: 'The form could not be read: it was sent with a compression it does not have. Reload the page and send it again.',
      415: 'The form was sent in an encoding this service does not accept. Reload the page and send it again.',
    };
    const stackTrace = /^\s+at \S|node_modules|\.ts:\d+/m;
    let agent: UserAgent;
    let routes: string[];

    beforeAll(async () => {
      // A signed-in browser in the middle of an interaction: its cookies carry each route as far as
      // it goes, so what is refused is the body, whatever the order of the route's checks.
      agent = new UserAgent();
      const rp = await RelyingParty.discover(app.server.url, client);
      await registerAndConsent(agent, await rp.authorize(), newAccount('encoding'));
      const consent = expectPage(await agent.get((await rp.authorize()).url));
      const uid = /^\/interaction\/([^/]+)$/.exec(new URL(consent.url).pathname)?.[1];
      if (!uid) throw new Error(`no interaction at ${consent.url}`);
      routes = [
        ...['login', 'register', 'forgot', 'confirm', 'abort'].map((action) => `/interaction/${uid}/${action}`),
        ...['profile', 'password', 'apps/revoke', 'sign-out-everywhere'].map((action) => `/account/${action}`),
        '/reset-password',
        '/verify-email',
      ];
    });

    test.each(['gzip', 'deflate', 'br'])('%s over plain text: 400 or 415 saying so, on every form route, never a 500', async (encoding) => {
      const headers = {
        'Content-Type': 'application/x-www-form-urlencoded',
        'Content-Encoding': encoding,
        'Sec-Fetch-Site': 'same-origin',
      };
      const answers = await Promise.all(
        routes.map(async (route) => {
          const response = await agent.request(new URL(route, app.server.url), { method: 'POST', body, headers });
          const html = await response.text();
          return {
            route,
            status: response.status,
            message: cheerio.load(html)('main p').first().text(),
            stackTrace: stackTrace.test(html),
          };
        }),
      );
      // One comparison for all routes, so a failure lists every route that answered wrongly.
      const refused = (status: number) => (status === 415 ? 415 : 400);
      const expected = answers.map(({ route, status }) => ({
        route,
        status: refused(status),
        message: messages[refused(status)],
        stackTrace: false,
      }));
      expect(answers).toEqual(expected);
    });
  });

  test('health probes are not access-logged; every other request is, once, with its request id', async () => {
    const probe = 'probe-check-0001';
    const page = 'page-check-00001';
    for (const path of ['/healthz', '/readyz'])
      await (await fetch(new URL(path, app.server.url), { headers: { 'X-Request-Id': probe } })).text();
    await (await fetch(new URL('/.well-known/openid-configuration', app.server.url), { headers: { 'X-Request-Id': page } })).text();
    const requests = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request');
    expect(requests.filter((line) => line.requestId === probe)).toEqual([]);
    expect(requests.filter((line) => line.requestId === page)).toEqual([
      expect.objectContaining({ method: 'GET', path: '/.well-known/openid-configuration', status: 200 }),
    ]);
  });

  test('/healthz answers without I/O; /readyz reports a store that stopped answering', async () => {
    expect(await (await fetch(new URL('/readyz', app.server.url))).json()).toEqual({ status: 'ready' });
    await ownRedis.stop();
    const health = await fetch(new URL('/healthz', app.server.url));
    expect(health.status).toBe(200);
    await health.text();
    const ready = await fetch(new URL('/readyz', app.server.url));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', reason: 'Redis does not answer' });
  });
});

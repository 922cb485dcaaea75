import { beforeAll, describe, expect, test } from '@jest/globals';
import { useTestApp } from '../support/app-fixture.ts';
import {
  allowConsent,
  newAccount,
  openAuthorization,
  RP_REDIRECT_URI,
  registerFrom,
  rpClient,
  signInFrom,
} from '../support/relying-party.ts';
import { expectPage, UserAgent } from '../support/user-agent.ts';

/**
 * Served as https://... through a TLS-terminating proxy (TRUST_PROXY=true): prefixed, Secure cookies
 * and HSTS; plain http to an https issuer is refused with a message naming the setting.
 */
describe('behind a TLS-terminating proxy', () => {
  const client = rpClient();
  // openid-client talks to the https issuer through the same proxy rewrite as the browser.
  const proxied = new UserAgent({ behindTlsProxy: true });
  const app = useTestApp('https-proxy', {
    clients: () => [client],
    env: { TRUST_PROXY: 'true' },
    https: true,
    relyingParty: client,
    relyingPartyFetch: (url, options) => proxied.request(url, options as unknown as RequestInit),
  });
  let issuer: string;
  beforeAll(() => {
    issuer = app.server.config.issuer;
    expect(issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test('cookies carry __Host-/__Secure- prefixes, Secure, HttpOnly and SameSite=Lax; pages send HSTS', async () => {
    const agent = new UserAgent({ behindTlsProxy: true });
    const account = newAccount('tls');
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    expect(loginPage.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const consent = expectPage(await registerFrom(agent, loginPage, account));
    await allowConsent(agent, consent);

    const cookies = await agent.jar.getCookies(issuer);
    const session = cookies.find((cookie) => cookie.key === '__Host-session');
    expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'lax', path: '/' });
    expect(session?.domain).toBe('127.0.0.1');
    expect(cookies.map((cookie) => cookie.key)).not.toContain('_session');
  });

  test('the whole flow works, and sign-in again works in a new browser', async () => {
    const account = newAccount('tls2');
    const first = new UserAgent({ behindTlsProxy: true });
    await allowConsent(first, expectPage(await registerFrom(first, await openAuthorization(first, await app.rp.authorize()), account)));
    const second = new UserAgent({ behindTlsProxy: true });
    const authorization = await app.rp.authorize();
    const consent = expectPage(await signInFrom(second, await openAuthorization(second, authorization), account.email, account.password));
    const callback = await allowConsent(second, consent);
    expect(callback.toString().startsWith(RP_REDIRECT_URI)).toBe(true);
    expect((await app.rp.exchange(authorization, callback)).claims()?.iss).toBe(issuer);
  });

  test('plain http to an https issuer is refused with a line naming TRUST_PROXY; health probes still answer', async () => {
    const plainUrl = issuer.replace('https:', 'http:');
    const refused = await fetch(new URL('/.well-known/openid-configuration', plainUrl));
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('TRUST_PROXY=true');
    const health = await fetch(new URL('/healthz', plainUrl));
    expect(health.status).toBe(200);
    await health.text();
  });

  test('discovery advertises https endpoints', () => {
    expect(app.rp.config.serverMetadata().token_endpoint).toBe(`${issuer}/token`);
    expect(app.rp.config.serverMetadata().authorization_endpoint).toBe(`${issuer}/auth`);
  });
});

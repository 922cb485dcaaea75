import { describe, expect, test } from '@jest/globals';
import type { Cookie } from 'tough-cookie';
import { useTestApp } from '../support/app-fixture.ts';
import { sleep } from '../support/eventually.ts';
import {
  allowConsent,
  newAccount,
  openAuthorization,
  RelyingParty,
  RP_POST_LOGOUT_URI,
  RP_REDIRECT_URI,
  registerAndConsent,
  rpClient,
  signInFrom,
} from '../support/relying-party.ts';
import { expectPage, expectRedirect, UserAgent } from '../support/user-agent.ts';

/** Session behaviour seen from the browser: remember me, a new id at sign-in, logout that ends it. */
describe('sessions (real Redis)', () => {
  const client = rpClient();
  const app = useTestApp('sessions', { clients: () => [client], relyingParty: client });

  const sessionCookie = async (agent: UserAgent): Promise<Cookie | undefined> =>
    (await agent.jar.getCookies(app.server.url)).find((cookie) => cookie.key === '_session');

  const signIn = async (remember: boolean) => {
    const account = newAccount(remember ? 'remember' : 'forget');
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);
    const agent = new UserAgent();
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    await allowConsent(agent, expectPage(await signInFrom(agent, loginPage, account.username, account.password, remember)));
    return agent;
  };

  test('without "Remember me" the session cookie ends with the browser; with it, it lasts the idle lifetime', async () => {
    const transient = await sessionCookie(await signIn(false));
    expect(transient).toBeDefined();
    expect(transient?.expires).toBe('Infinity'); // no Expires/Max-Age: a browser-session cookie

    const persistent = await sessionCookie(await signIn(true));
    const expires = persistent?.expires;
    if (!(expires instanceof Date)) throw new Error(`persistent cookie has no expiry: ${String(expires)}`);
    const lifetime = (expires.getTime() - Date.now()) / 1000;
    expect(lifetime).toBeGreaterThan(app.server.config.ttl.sessionIdle - 60);
    expect(lifetime).toBeLessThanOrEqual(app.server.config.ttl.sessionIdle + 1);
  });

  test('a session ends after the idle time, and at the absolute lifetime even when in use', async () => {
    const short = await app.start({
      clients: () => [client],
      env: { IDP_SESSION_TTL: '6', IDP_SESSION_IDLE_TTL: '3', IDP_CLOCK_TOLERANCE: '0' },
    });
    try {
      const shortRp = await RelyingParty.discover(short.url, client);
      const silently = async (agent: UserAgent) =>
        expectRedirect(
          await agent.get((await shortRp.authorize({ prompt: 'none', scope: 'openid' })).url, RP_REDIRECT_URI),
        ).searchParams.get('error');

      const idle = new UserAgent();
      await registerAndConsent(idle, await shortRp.authorize(), newAccount('idle'));
      expect(await silently(idle)).toBeNull();
      await sleep(4500); // lifetimes are whole seconds
      expect(await silently(idle)).toBe('login_required');

      const busy = new UserAgent();
      await registerAndConsent(busy, await shortRp.authorize(), newAccount('busy'));
      for (let second = 1; second <= 4; second += 1) {
        await sleep(1000); // used well within the idle time
        expect(await silently(busy)).toBeNull();
      }
      // 2.5 s after its last use the idle timeout alone would keep it, but it is past 6 s since sign-in.
      await sleep(2500);
      expect(await silently(busy)).toBe('login_required');
    } finally {
      await short.close();
    }
  });

  test('the session cookie is HttpOnly and SameSite=Lax', async () => {
    const cookie = await sessionCookie(await signIn(true));
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('lax');
  });

  test('the session identifier changes at sign-in, also when re-authenticating', async () => {
    const account = newAccount('rotate');
    const agent = new UserAgent();
    await registerAndConsent(agent, await app.rp.authorize(), account);
    const before = (await sessionCookie(agent))?.value;
    expect(before).toEqual(expect.any(String));

    // prompt=login forces a new sign-in on the existing session (ASVS 5.0 7.2.4).
    const loginPage = await openAuthorization(agent, await app.rp.authorize({ prompt: 'login consent' }));
    expect(loginPage.$('h1').text()).toBe('Sign in');
    await allowConsent(agent, expectPage(await signInFrom(agent, loginPage, account.username, account.password)));
    const after = (await sessionCookie(agent))?.value;
    expect(after).toEqual(expect.any(String));
    expect(after).not.toBe(before);
  });

  test('after logout, a replayed old session cookie is worthless', async () => {
    const agent = await signIn(false);
    const oldCookie = await sessionCookie(agent);
    if (!oldCookie) throw new Error('no session cookie');
    const saved = oldCookie.toString();
    const signatures = (await agent.jar.getCookies(app.server.url))
      .filter((cookie) => cookie.key === '_session.sig')
      .map((c) => c.toString());

    // The signed-in browser gets an ID token silently, for the logout request.
    const authorization = await app.rp.authorize({ prompt: 'none', scope: 'openid' });
    const tokens = await app.rp.exchange(authorization, expectRedirect(await agent.get(authorization.url, RP_REDIRECT_URI)));
    const logoutPage = expectPage(await agent.get(app.rp.endSessionUrl(tokens.id_token ?? '', 'x'), RP_POST_LOGOUT_URI));
    expectRedirect(await agent.submit(logoutPage, 'form#op\\.logoutForm', { logout: 'yes' }, RP_POST_LOGOUT_URI));

    // An attacker who kept the old cookie replays it in a fresh browser.
    const replay = new UserAgent();
    await replay.jar.setCookie(saved, app.server.url);
    for (const signature of signatures) await replay.jar.setCookie(signature, app.server.url);
    const silent = expectRedirect(await replay.get((await app.rp.authorize({ prompt: 'none', scope: 'openid' })).url, RP_REDIRECT_URI));
    expect(silent.searchParams.get('error')).toBe('login_required');
  });
});

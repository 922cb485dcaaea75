import { describe, expect, test } from '@jest/globals';
import * as cheerio from 'cheerio';
import { useTestApp } from '../support/app-fixture.ts';
import {
  allowConsent,
  newAccount,
  openAuthorization,
  RP_POST_LOGOUT_URI,
  RP_REDIRECT_URI,
  registerAndConsent,
  registerFrom,
  rpClient,
} from '../support/relying-party.ts';
import { expectPage, expectRedirect, type Page, UserAgent } from '../support/user-agent.ts';

describe('messages, logout pages and headers on every page', () => {
  const client = rpClient();
  const app = useTestApp('logout-messages', { clients: () => [client], relyingParty: client });
  const pages: Record<string, Page> = {};

  test('"Account created" is carried across the redirects to the next page, once', async () => {
    const agent = new UserAgent();
    pages.login = await openAuthorization(agent, await app.rp.authorize());
    pages.register = expectPage(await agent.get(new URL(pages.login.$('a[href$="/register"]').attr('href') ?? '', pages.login.url)));
    const account = newAccount('flash');
    pages.consent = expectPage(await registerFrom(agent, pages.login, account));
    expect(pages.consent.$('.flash--success[role=status]').text()).toBe(`Account created. Welcome, ${account.username}!`);
    const again = expectPage(await agent.get(pages.consent.url));
    expect(again.$('.flash').length).toBe(0);
    await allowConsent(agent, again);
  });

  test('a plain /logout link asks for confirmation, ends the session and says so', async () => {
    const agent = new UserAgent();
    await registerAndConsent(agent, await app.rp.authorize(), newAccount('plain'));
    pages.logout = expectPage(await agent.get(new URL('/logout', app.server.url)));
    expect(pages.logout.$('h1').text()).toBe('Sign out');
    expect(pages.logout.$('script[src="/assets/logout.js"]').length).toBe(0); // unverified: the person confirms
    pages.loggedOut = expectPage(await agent.submit(pages.logout, 'form#op\\.logoutForm', { logout: 'yes' }));
    expect(pages.loggedOut.$('h1').text()).toBe('You have been signed out');
    const silent = expectRedirect(await agent.get((await app.rp.authorize({ prompt: 'none', scope: 'openid' })).url, RP_REDIRECT_URI));
    expect(silent.searchParams.get('error')).toBe('login_required');
  });

  test('a logout request with a verified id_token_hint confirms itself (with JavaScript)', async () => {
    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    const tokens = await app.rp.exchange(authorization, await registerAndConsent(agent, authorization, newAccount('hint')));
    const page = expectPage(await agent.get(app.rp.endSessionUrl(tokens.id_token ?? '', 's'), RP_POST_LOGOUT_URI));
    expect(page.$('script[src="/assets/logout.js"]').length).toBe(1);
    expect(page.$('button[name=logout][value=yes]').length).toBe(1); // and works without JavaScript
    const script = await fetch(new URL('/assets/logout.js', app.server.url));
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(await script.text()).toContain('button[name="logout"][value="yes"]');
  });

  test('a logout by POST while IDP_AUTHORIZATION_POST is off: 405, Allow: GET, an OAuth error naming the setting', async () => {
    const endSession = new URL(app.rp.config.serverMetadata().end_session_endpoint ?? '');
    expect(endSession.toString()).toBe(`${app.server.url}/session/end`);
    const post = (accept: string) =>
      fetch(endSession, { method: 'POST', body: new URLSearchParams({ client_id: client.client_id }), headers: { Accept: accept } });
    const description = '/session/end accepts GET only; POST needs IDP_AUTHORIZATION_POST=true on this server';

    const json = await post('application/json');
    expect(json.status).toBe(405);
    expect(json.headers.get('allow')).toBe('GET, HEAD');
    expect(await json.json()).toEqual({ error: 'invalid_request', error_description: description });

    // A browser that posted the form gets a page saying what to do, with the same details.
    const html = await post('text/html');
    expect(html.status).toBe(405);
    expect(html.headers.get('allow')).toBe('GET, HEAD');
    const page = cheerio.load(await html.text());
    expect(page('h1').text()).toBe('Sign-in could not continue');
    expect(page('main').text()).toContain('Ask the application to use a link instead.');
    expect(page('main').text()).toContain(description);
  });

  test('every page sends the security headers', async () => {
    pages.error = expectPage(await new UserAgent().get(new URL('/interaction/unknown', app.server.url)));
    pages.home = expectPage(await new UserAgent().get(app.server.url));
    expect(Object.keys(pages).sort()).toEqual(['consent', 'error', 'home', 'loggedOut', 'login', 'logout', 'register']);
    for (const [name, page] of Object.entries(pages)) {
      const csp = page.headers.get('content-security-policy') ?? '';
      expect({ name, frameAncestors: csp.includes("frame-ancestors 'none'") }).toEqual({ name, frameAncestors: true });
      expect({ name, inlineScript: /unsafe-inline|unsafe-eval/.test(csp) }).toEqual({ name, inlineScript: false });
      expect({ name, referrer: page.headers.get('referrer-policy') }).toEqual({ name, referrer: 'no-referrer' });
      expect({ name, nosniff: page.headers.get('x-content-type-options') }).toEqual({ name, nosniff: 'nosniff' });
      expect({ name, inlineScriptTag: /<script(?![^>]*\bsrc=)/.test(page.html) }).toEqual({ name, inlineScriptTag: false });
    }
  });
});

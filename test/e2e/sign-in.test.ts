import { beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
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
  signInFrom,
} from '../support/relying-party.ts';
import { expectPage, expectRedirect, UserAgent } from '../support/user-agent.ts';

/** The whole path, end to end: openid-client as the app, our pages, MongoDB and Redis for real. */
describe('sign-in end to end (real Redis and MongoDB)', () => {
  const client = rpClient();
  const app = useTestApp('e2e-sign-in', { clients: () => [client], relyingParty: client });
  beforeAll(() => {
    expect(app.server.stores.kinds).toEqual({ users: 'mongodb', oidc: 'redis' });
  });

  test('happy path: register, consent, code with PKCE, verified ID token, userinfo, refresh, logout', async () => {
    const agent = new UserAgent();
    const account = newAccount('happy');
    const authorization = await app.rp.authorize();

    const callback = await registerAndConsent(agent, authorization, account);
    expect(callback.searchParams.get('iss')).toBe(app.server.url); // RFC 9207

    const tokens = await app.rp.exchange(authorization, callback);
    const claims = tokens.claims();
    if (!claims) throw new Error('no ID token');
    expect(claims.iss).toBe(app.server.url);
    expect(claims.aud).toBe(client.client_id);
    expect(claims.nonce).toBe(authorization.nonce);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const user = await app.server.users.userService.findById(claims.sub);
    expect(user?.username).toBe(account.username);

    const userinfo = await app.rp.userinfo(tokens.access_token, claims.sub);
    expect(userinfo).toEqual({
      sub: claims.sub,
      preferred_username: account.username,
      updated_at: expect.any(Number),
      email: account.email,
      email_verified: false,
    });

    const refreshed = await app.rp.refresh(tokens.refresh_token ?? '');
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect((await app.rp.userinfo(refreshed.access_token, claims.sub)).sub).toBe(claims.sub);

    // RP-initiated logout: confirmation page, then back to the registered post-logout URI with state.
    const logoutPage = expectPage(await agent.get(app.rp.endSessionUrl(tokens.id_token ?? '', 'bye'), RP_POST_LOGOUT_URI));
    expect(logoutPage.$('h1').text()).toBe('Sign out');
    const afterLogout = expectRedirect(await agent.submit(logoutPage, 'form#op\\.logoutForm', { logout: 'yes' }, RP_POST_LOGOUT_URI));
    expect(afterLogout.searchParams.get('state')).toBe('bye');

    // The session is gone: a new authorization asks to sign in again.
    const again = await openAuthorization(agent, await app.rp.authorize());
    expect(again.$('h1').text()).toBe('Sign in');
  });

  test('an existing user signs in with username or email; a wrong password gets the generic message', async () => {
    const account = newAccount('login');
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);

    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    const loginPage = await openAuthorization(agent, authorization);
    const wrong = expectPage(await signInFrom(agent, loginPage, account.username, 'not the password at all'));
    expect(wrong.status).toBe(401);
    expect(wrong.$('[role=alert]').text()).toBe('Invalid email/username or password.');
    expect(wrong.$('input[name=login]').val()).toBe(account.username);
    expect(wrong.$('input[name=password]').val()).toBeUndefined();

    const unknown = expectPage(await signInFrom(agent, wrong, 'nobody-here', account.password));
    expect(unknown.status).toBe(401);
    expect(unknown.$('[role=alert]').text()).toBe('Invalid email/username or password.');

    // Email in another case works, and the earlier consent covers the same scopes... but prompt=consent asks again.
    const consentPage = expectPage(await signInFrom(agent, unknown, account.email.toUpperCase(), account.password));
    expect(consentPage.$('h1').text()).toContain('Example App');
    const callback = await allowConsent(agent, consentPage);
    const tokens = await app.rp.exchange(authorization, callback);
    expect((await app.server.users.userService.findById(tokens.claims()?.sub ?? ''))?.email).toBe(account.email);
  });

  test('registering a taken email or username keeps the input and says so next to the field', async () => {
    const account = newAccount('dupe');
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);

    const agent = new UserAgent();
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    const other = newAccount('other');
    const page = expectPage(await registerFrom(agent, loginPage, { ...other, email: account.email }));
    expect(page.status).toBe(400);
    expect(page.$('#email-error').text()).toBe('This email is already registered. Sign in instead, or use another email.');
    expect(page.$('#email').attr('aria-invalid')).toBe('true');
    expect(page.$('#username').val()).toBe(other.username);
    expect(page.$('#email').val()).toBe(account.email);
    expect(page.$('#password').val()).toBeUndefined();

    const taken = expectPage(await registerFrom(agent, loginPage, { ...other, username: account.username.toUpperCase() }));
    expect(taken.$('#username-error').text()).toBe('This username is already taken. Choose another one.');
  });

  test('two concurrent registrations with one email: one account, and the other sees "already registered"', async () => {
    const email = newAccount('race').email;
    const attempts = await Promise.all(
      [newAccount('racer'), newAccount('racer')].map(async (account) => {
        const agent = new UserAgent();
        const loginPage = await openAuthorization(agent, await app.rp.authorize());
        return registerFrom(agent, loginPage, { ...account, email });
      }),
    );
    const pages = attempts.map((attempt) => expectPage(attempt));
    const statuses = pages.map((page) => page.status).sort();
    expect(statuses).toEqual([200, 400]); // the winner reaches consent, the loser gets the form back
    const loser = pages.find((page) => page.status === 400);
    expect(loser?.$('#email-error').text()).toContain('already registered');
  });

  test('an unregistered redirect_uri or an unknown client gets an error page and is never redirected', async () => {
    const agent = new UserAgent();
    const mismatch = await app.rp.authorize({ redirect_uri: 'https://evil.example/callback' });
    const page = expectPage(await agent.get(mismatch.url));
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    expect(page.$('main').text()).toContain('not registered');
    expect(page.html).not.toContain('evil.example');

    const unknownClient = new URL(mismatch.url);
    unknownClient.searchParams.set('client_id', 'no-such-client');
    unknownClient.searchParams.set('redirect_uri', RP_REDIRECT_URI);
    const unknownPage = expectPage(await agent.get(unknownClient));
    expect(unknownPage.status).toBe(400);
    expect(unknownPage.$('main').text()).toContain('not registered with this sign-in service');
    expect(unknownPage.html).not.toMatch(/at .*\.(js|ts):\d+/); // no stack trace
  });

  test('a code redeemed twice: the second gets invalid_grant and the first tokens are revoked', async () => {
    const authorization = await app.rp.authorize();
    const callback = await registerAndConsent(new UserAgent(), authorization, newAccount('twice'));
    const tokens = await app.rp.exchange(authorization, callback);
    const sub = tokens.claims()?.sub ?? '';
    await expect(app.rp.exchange(authorization, callback)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(app.rp.userinfo(tokens.access_token, sub)).rejects.toMatchObject({ status: 401 });
    await expect(app.rp.refresh(tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('the same code redeemed concurrently is redeemed at most once, and the race revokes the grant', async () => {
    const authorization = await app.rp.authorize();
    const callback = await registerAndConsent(new UserAgent(), authorization, newAccount('race-code'));
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => app.rp.exchange(authorization, callback)));
    const succeeded = results.filter((result) => result.status === 'fulfilled');
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    // At most one exchange succeeds; the others are treated as a replay, which revokes the grant, so
    // even the winner's tokens stop working (RFC 9700 §4.2.4).
    expect(succeeded.length).toBeLessThanOrEqual(1);
    expect(failed.length).toBeGreaterThanOrEqual(5);
    for (const result of failed) expect(result.reason).toMatchObject({ error: 'invalid_grant' });
    for (const result of succeeded) {
      const tokens = result.value;
      await expect(app.rp.userinfo(tokens.access_token, tokens.claims()?.sub ?? '')).rejects.toMatchObject({ status: 401 });
    }
  });

  test('deny on consent sends access_denied back to the app', async () => {
    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    const loginPage = await openAuthorization(agent, authorization);
    const consentPage = expectPage(await registerFrom(agent, loginPage, newAccount('deny')));
    const denied = expectRedirect(await agent.submit(consentPage, 'form[action$="/abort"]', {}, RP_REDIRECT_URI));
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('state')).toBe(authorization.state);
    await expect(app.rp.exchange(authorization, denied)).rejects.toBeInstanceOf(oidc.AuthorizationResponseError);
  });

  test('a form posted without its CSRF token, or cross-site, is refused with a clear page', async () => {
    const agent = new UserAgent();
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    const action = new URL(loginPage.$('form[action$="/login"]').attr('action') ?? '', loginPage.url);
    const forged = expectPage(
      await agent.follow(action, {
        method: 'POST',
        body: new URLSearchParams({ login: 'x', password: 'y', csrf: 'forged.token' }),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    );
    expect(forged.status).toBe(403);
    expect(forged.$('h1').text()).toBe('Form expired');

    const csrf = loginPage.$('input[name=csrf]').val();
    const crossSite = expectPage(
      await agent.follow(action, {
        method: 'POST',
        body: new URLSearchParams({ login: 'x', password: 'y', csrf: String(csrf) }),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'cross-site' },
      }),
    );
    expect(crossSite.status).toBe(403);
  });

  test('an unknown or finished interaction says it expired and offers a way back', async () => {
    const agent = new UserAgent();
    const page = expectPage(await agent.get(new URL('/interaction/does-not-exist', app.server.url)));
    expect(page.status).toBe(400);
    expect(page.$('h1').text()).toBe('Sign-in expired');
    expect(page.$('main a[href="/"]').text()).toContain('home page');

    const authorization = await app.rp.authorize();
    const loginPage = await openAuthorization(agent, authorization);
    const consentPage = expectPage(await registerFrom(agent, loginPage, newAccount('back')));
    await allowConsent(agent, consentPage);
    // Back button: the finished interaction's page is gone.
    const stale = expectPage(await agent.get(consentPage.url));
    expect(stale.$('h1').text()).toBe('Sign-in expired');
  });
});

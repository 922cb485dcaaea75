import { describe, expect, test } from '@jest/globals';
import { useTestApp } from '../support/app-fixture.ts';
import { nextSecond } from '../support/eventually.ts';
import {
  allowConsent,
  isLoginPage,
  type NewAccount,
  newAccount,
  openAuthorization,
  RP_REDIRECT_URI,
  registerAndConsent,
  rpClient,
  signInFrom,
} from '../support/relying-party.ts';
import { linkIn } from '../support/smtp.ts';
import { expectPage, expectRedirect, type Page, UserAgent } from '../support/user-agent.ts';

/** The self-service account page, on real Redis, MongoDB and SMTP. */
describe('account page', () => {
  const client = rpClient();
  const app = useTestApp('account-page', { clients: () => [client], relyingParty: client, mail: true });

  /** A person who registered through the app, then opens /account in a browser of their own. */
  const person = async (label: string): Promise<{ account: NewAccount; agent: UserAgent; page: Page }> => {
    const account = newAccount(label);
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);
    await app.smtp.waitFor(account.email);
    const agent = new UserAgent();
    const loginPage = expectPage(await agent.get(new URL('/account', app.server.url)));
    expect(loginPage.$('h1').text()).toBe('Sign in');
    const page = expectPage(await signInFrom(agent, loginPage, account.username, account.password));
    return { account, agent, page };
  };
  /** Submits the account page's password form with the current and a new password. */
  const changePassword = async (agent: UserAgent, page: Page, current: string, next: string) =>
    expectPage(
      await agent.submit(page, 'form[action="/account/password"]', { currentPassword: current, password: next, confirmPassword: next }),
    );
  /** Whether the browser still has a sign-in session here (prompt=none says login_required if not). */
  const signedIn = async (agent: UserAgent) =>
    expectRedirect(await agent.get((await app.rp.authorize({ prompt: 'none', scope: 'openid' })).url, RP_REDIRECT_URI)).searchParams.get(
      'error',
    ) !== 'login_required';

  test('anyone not signed in is sent to sign in and brought back, without a consent screen', async () => {
    const { account, page } = await person('visitor');
    expect(page.url).toBe(`${app.server.url}/account`);
    expect(page.$('h1').text()).toBe('Your account');
    expect(page.$('#username').val()).toBe(account.username);
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  test('profile: a new username is saved; a taken one is refused; a new email needs the password and is re-verified', async () => {
    const other = await person('taken');
    const { account, agent, page } = await person('profile');
    const renamed = `${account.username}x`;
    const saved = expectPage(await agent.submit(page, 'form[action="/account/profile"]', { username: renamed, email: account.email }));
    expect(saved.$('.flash').text()).toBe('Profile saved.');
    expect(saved.$('#username').val()).toBe(renamed);

    const taken = expectPage(
      await agent.submit(saved, 'form[action="/account/profile"]', { username: other.account.username, email: account.email }),
    );
    expect(taken.status).toBe(400);
    expect(taken.$('#username-error').text()).toBe('This username is already taken. Choose another one.');

    const newEmail = `new-${account.email}`;
    const noPassword = expectPage(await agent.submit(saved, 'form[action="/account/profile"]', { username: renamed, email: newEmail }));
    expect(noPassword.$('#profile-current-password-error').text()).toBe('Enter your current password to change your email address.');

    const changed = expectPage(
      await agent.submit(saved, 'form[action="/account/profile"]', {
        username: renamed,
        email: newEmail,
        currentPassword: account.password,
      }),
    );
    expect(changed.$('.flash').text()).toBe(`Profile saved. We sent a link to ${newEmail} to verify it.`);
    const user = await app.server.stores.users.findByEmail(newEmail);
    expect(user?.emailVerified).toBe(false);
    const link = linkIn(await app.smtp.waitFor(newEmail), `${app.server.url}/verify-email?token=`);
    const verifyPage = expectPage(await agent.get(link));
    expect(
      expectPage(await agent.submit(verifyPage, 'form[action="/verify-email"]'))
        .$('h1')
        .text(),
    ).toBe('Email verified');
  });

  test('the full name is optional, validated, kept next to its field, and is the name claim apps receive', async () => {
    const { account, agent, page } = await person('named');
    const fields = { username: account.username, email: account.email };
    const tooLong = expectPage(await agent.submit(page, 'form[action="/account/profile"]', { ...fields, name: 'N'.repeat(101) }));
    expect(tooLong.status).toBe(400);
    expect(tooLong.$('#name-error').text()).toBe('Use at most 100 characters for your name.');
    expect(tooLong.$('#name').val()).toBe('N'.repeat(101));

    const saved = expectPage(await agent.submit(page, 'form[action="/account/profile"]', { ...fields, name: '  Grace Hopper ' }));
    expect(saved.$('.flash').text()).toBe('Profile saved.');
    expect(saved.$('#name').val()).toBe('Grace Hopper');
    const authorization = await app.rp.authorize({ scope: 'openid profile' });
    const consent = expectPage(await agent.get(authorization.url, RP_REDIRECT_URI));
    const tokens = await app.rp.exchange(authorization, await allowConsent(agent, consent));
    expect((await app.rp.userinfo(tokens.access_token, tokens.claims()?.sub ?? '')).name).toBe('Grace Hopper');

    const reopened = expectPage(await agent.get(new URL('/account', app.server.url)));
    expect(reopened.$('#name').val()).toBe('Grace Hopper');
    const cleared = expectPage(await agent.submit(reopened, 'form[action="/account/profile"]', { ...fields, name: '' }));
    expect(cleared.$('#name')).toHaveLength(1);
    expect(cleared.$('#name').val() ?? '').toBe(''); // an empty value is left out of the HTML
    expect((await app.server.stores.users.findByEmail(account.email))?.name).toBeUndefined();
  });

  test('changing the password needs the current one, applies the policy and signs out the other sessions', async () => {
    const { account, agent, page } = await person('password');
    const otherDevice = new UserAgent();
    await openAuthorization(otherDevice, await app.rp.authorize()).then(async (loginPage) =>
      signInFrom(otherDevice, loginPage, account.username, account.password),
    );
    expect(await signedIn(otherDevice)).toBe(true);

    const wrong = await changePassword(agent, page, 'nope', 'x');
    expect(wrong.status).toBe(400);
    expect(wrong.$('#currentPassword-error').text()).toBe('This is not your current password.');
    expect(wrong.$('#password-error').text()).toContain('at least 15 characters');

    const done = await changePassword(agent, page, account.password, 'another perfectly long passphrase');
    // The browser that registered, and the other device.
    expect(done.$('.flash').text()).toBe('Password changed. 2 other sessions were signed out.');
    expect(await signedIn(otherDevice)).toBe(false);
    expect(await signedIn(agent)).toBe(true); // this session stays
  });

  test('the current-password fields are throttled like the sign-in page: after the free failures even the right password waits', async () => {
    const { account, agent, page } = await person('guess');
    // Six are checked (IDP_LOGIN_FREE_FAILURES=5, then one more before the first delay); sent at once
    // they cannot outrun the count, which the sign-in page shares.
    const guesses = await Promise.all(
      Array.from({ length: 8 }, (_, index) => changePassword(agent, page, `wrong guess number ${index}`, 'a new and long passphrase')),
    );
    expect(guesses.map((guess) => guess.status).sort()).toEqual([400, 400, 400, 400, 400, 400, 429, 429]);
    const waiting = await changePassword(agent, page, account.password, 'a new and long passphrase');
    expect(waiting.status).toBe(429);
    expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(waiting.$('#currentPassword-error').text()).toMatch(/^Too many wrong passwords\. Try again in \d+ seconds\.$/);
    const email = expectPage(
      await agent.submit(page, 'form[action="/account/profile"]', {
        username: account.username,
        email: `other-${account.email}`,
        currentPassword: account.password,
      }),
    );
    expect(email.status).toBe(429);
    expect((await app.server.stores.users.findByEmail(account.email))?.id).toBeDefined();
    // The sign-in page counts the same failures: the account waits there too.
    const elsewhere = new UserAgent();
    const refused = expectPage(
      await signInFrom(elsewhere, await openAuthorization(elsewhere, await app.rp.authorize()), account.username, account.password),
    );
    expect(isLoginPage(refused)).toBe(true);
    expect(refused.$('#login-error').text()).toBe('Invalid email/username or password.');
  });

  test('a sign-in finished with the old password and left waiting cannot be resumed after a password change', async () => {
    const { account, agent, page } = await person('staged');
    // Stopped at the redirect that would resume the finished sign-in into a session.
    const other = new UserAgent();
    const login = await openAuthorization(other, await app.rp.authorize());
    const finished = expectRedirect(
      await other.submit(
        login,
        'form[action$="/login"]',
        { login: account.username, password: account.password },
        `${app.server.url}/auth/`,
      ),
    );
    await nextSecond();
    const done = await changePassword(agent, page, account.password, 'the replacement long passphrase');
    expect(done.$('.flash').text()).toContain('Password changed.');
    const resumed = await other.get(finished, RP_REDIRECT_URI);
    expect(resumed.redirectedTo).toBeUndefined();
    expect(isLoginPage(expectPage(resumed))).toBe(true);
    expect(await signedIn(agent)).toBe(true);
  });

  test("a password change revokes every app's tokens, this browser's too; only this browser stays signed in", async () => {
    // The person registered on another device, where the app got its tokens.
    const account = newAccount('revoke');
    const otherDevice = new UserAgent();
    const there = await app.rp.authorize();
    const otherTokens = await app.rp.exchange(there, await registerAndConsent(otherDevice, there, account));
    await app.smtp.waitFor(account.email);
    // This browser: signed in on the account page, and the app signed in here as well.
    const agent = new UserAgent();
    await signInFrom(agent, expectPage(await agent.get(new URL('/account', app.server.url))), account.username, account.password);
    const here = await app.rp.authorize();
    const ownTokens = await app.rp.exchange(here, await allowConsent(agent, expectPage(await agent.get(here.url, RP_REDIRECT_URI))));
    const page = expectPage(await agent.get(new URL('/account', app.server.url))); // the app's sign-in renewed the session's id
    expect([await app.rp.active(otherTokens), await app.rp.active(ownTokens)]).toEqual([
      { access: true, refresh: true },
      { access: true, refresh: true },
    ]);

    const done = await changePassword(agent, page, account.password, 'yet another perfectly long passphrase');
    expect(done.$('.flash').text()).toBe('Password changed. 1 other session was signed out.');
    expect([await app.rp.active(otherTokens), await app.rp.active(ownTokens)]).toEqual([
      { access: false, refresh: false },
      { access: false, refresh: false },
    ]);
    await expect(app.rp.refresh(otherTokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(app.rp.refresh(ownTokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    // The person just proved the current password here: this session is kept, the other one is not.
    expect(await signedIn(agent)).toBe(true);
    expect(await signedIn(otherDevice)).toBe(false);
  });

  test('connected apps are listed; removing one revokes its grant, and its refresh token is refused', async () => {
    const account = newAccount('apps');
    const appBrowser = new UserAgent();
    const authorization = await app.rp.authorize();
    const tokens = await app.rp.exchange(authorization, await registerAndConsent(appBrowser, authorization, account));
    const agent = new UserAgent();
    const page = expectPage(
      await signInFrom(agent, expectPage(await agent.get(new URL('/account', app.server.url))), account.username, account.password),
    );
    const apps = page.$('ul.apps > li');
    expect(apps.length).toBe(1);
    expect(apps.find('strong').text()).toBe('Example App');
    // What the app may do, in the consent page's plain words (offline_access here).
    expect(
      apps
        .find('.app-scopes li')
        .map((_, item) => page.$(item).text())
        .get(),
    ).toContain('Stay connected while you are not using it');

    const removed = expectPage(await agent.submit(page, 'form[action="/account/apps/revoke"]'));
    expect(removed.$('.flash').text()).toBe('Example App can no longer access your account.');
    expect(removed.$('ul.apps li').length).toBe(0);
    await expect(app.rp.refresh(tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(app.rp.userinfo(tokens.access_token, tokens.claims()?.sub ?? '')).rejects.toMatchObject({ status: 401 });
  });

  test('sign out everywhere ends every session, this one included', async () => {
    const { agent, page, account } = await person('everywhere');
    const otherDevice = new UserAgent();
    await signInFrom(otherDevice, await openAuthorization(otherDevice, await app.rp.authorize()), account.username, account.password);
    const done = expectPage(await agent.submit(page, 'form[action="/account/sign-out-everywhere"]'));
    expect(done.$('h1').text()).toBe('You have been signed out');
    expect(await signedIn(otherDevice)).toBe(false);
    expect(await signedIn(agent)).toBe(false);
  });

  test('a forged account form is refused', async () => {
    const { agent } = await person('forged');
    const forged = expectPage(
      await agent.follow(new URL('/account/sign-out-everywhere', app.server.url), {
        method: 'POST',
        body: new URLSearchParams({ csrf: 'a.b' }),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    );
    expect(forged.status).toBe(403);
    expect(await signedIn(agent)).toBe(true);
  });
});

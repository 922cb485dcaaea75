import { describe, expect, jest, test } from '@jest/globals';
import type { IDToken } from 'openid-client';
import { useTestApp } from '../support/app-fixture.ts';
import { runTool } from '../support/cli.ts';
import { nextSecond, sleep } from '../support/eventually.ts';
import {
  type Authorization,
  allowConsent,
  isLoginPage,
  type NewAccount,
  newAccount,
  openAuthorization,
  RelyingParty,
  RP_REDIRECT_URI,
  registerAndConsent,
  rpClient,
  signInFrom,
} from '../support/relying-party.ts';
import {
  ceremonyResult,
  dateBackSignIn,
  isSecondStepPage,
  isSetupPage,
  runPasskeyForm,
  secretOn,
  setUpTotp,
  submitRecoveryCode,
  submitTotp,
  totpCode,
} from '../support/second-factors.ts';
import { linkIn } from '../support/smtp.ts';
import { SoftwareAuthenticator } from '../support/software-authenticator.ts';
import { expectPage, expectRedirect, type FollowResult, type Page, UserAgent } from '../support/user-agent.ts';

// Several tests run the users tool as a process, or sign a person in three times.
jest.setTimeout(60_000);

/**
 * Second factors end to end, with openid-client as the relying party over real HTTP against the app
 * on real Redis, MongoDB and SMTP: an authenticator app set up on the account page, the second step of
 * a sign-in (replay, throttle, a run of wrong codes, recovery codes), what requires it (acr_values, a
 * client, IDP_MFA), step-up, re-authentication, what adding or removing a factor needs (a recent
 * sign-in at the account's strongest level) and causes (an email, older sign-ins void), and the
 * administrator's reset. The issuer is http://localhost:PORT, so passkeys are offered (a WebAuthn
 * relying party id is a domain, never an IP address); a passkey held in software answers them.
 */
describe('second factors', () => {
  const client = rpClient();
  const strict = rpClient({ client_id: 'strict-app', client_name: 'Strict App', require_mfa: true } as Parameters<typeof rpClient>[0]);
  const app = useTestApp('second-factors', { clients: () => [client, strict], relyingParty: client, mail: true, hostname: 'localhost' });
  const CHANGED = 'The ways you sign in changed';

  /** A new person with an account (and the browser they registered in, signed in). */
  async function person(label: string): Promise<{ account: NewAccount; browser: UserAgent }> {
    const account = newAccount(label);
    const browser = new UserAgent();
    await registerAndConsent(browser, await app.rp.authorize(), account);
    return { account, browser };
  }

  /** A person who turned on an authenticator app on the account page. */
  async function personWithApp(label: string) {
    const { account, browser } = await person(label);
    const setup = await setUpTotp(browser, expectPage(await browser.get(`${app.server.url}/account/two-step`)));
    return { account, browser, ...setup };
  }

  /** A new browser opens the app's authorization request and gives the password; returns the next page. */
  async function password(account: NewAccount, parameters: Record<string, string> = {}, rp: RelyingParty = app.rp) {
    const browser = new UserAgent();
    const authorization = await rp.authorize(parameters);
    const next = await signInFrom(browser, await openAuthorization(browser, authorization), account.username, account.password);
    return { browser, authorization, next };
  }

  /** Allows consent when asked, and exchanges the code. */
  async function tokensOf(browser: UserAgent, result: FollowResult, authorization: Authorization, rp: RelyingParty = app.rp) {
    const callback = result.redirectedTo ?? (await allowConsent(browser, expectPage(result)));
    return rp.exchange(authorization, callback);
  }

  /** The ID token's claims at the end of the sign-in. */
  async function finish(browser: UserAgent, result: FollowResult, authorization: Authorization, rp: RelyingParty = app.rp) {
    return (await tokensOf(browser, result, authorization, rp)).claims() as IDToken;
  }

  const accountPage = async (browser: UserAgent) => expectPage(await browser.get(`${app.server.url}/account`));

  /** POSTs to `path` with the CSRF token of `page` (an account page, or an interaction's page), as its forms do. */
  const postWith = (browser: UserAgent, page: Page, path: string, fields: Record<string, string> = {}, stopAt = RP_REDIRECT_URI) =>
    browser.follow(
      new URL(path, app.server.url),
      {
        method: 'POST',
        body: new URLSearchParams({ csrf: page.$('input[name=csrf]').first().attr('value') ?? '', ...fields }),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
      },
      stopAt,
    );

  /** Whether the browser's sign-in still counts for the app (prompt=none answers login_required if not). */
  const signedInForApp = async (browser: UserAgent) =>
    expectRedirect(await browser.get((await app.rp.authorize({ prompt: 'none', scope: 'openid' })).url, RP_REDIRECT_URI)).searchParams.get(
      'error',
    ) !== 'login_required';

  /** Gives the password on a new browser's sign-in page and stops where the interaction is finished (at /auth/<uid>, not followed). */
  async function staged(account: NewAccount, fields: Record<string, string> = {}) {
    const browser = new UserAgent();
    const login = await openAuthorization(browser, await app.rp.authorize());
    const next = await browser.submit(
      login,
      'form[action$="/login"]',
      { login: account.username, password: account.password, ...fields },
      `${app.server.url}/auth/`,
    );
    return { browser, login, next, uid: new URL(login.url).pathname.split('/').at(-1) ?? '' };
  }

  /** The account's stored security events, newest first, read in this process (quicker than the tool). */
  const storedEvents = async (email: string) => {
    const user = await app.server.stores.users.findByEmail(email);
    return user ? app.server.users.events.ofAccount(user.id, 100) : [];
  };

  /** The account's security events, newest first, as `npm run users -- events --json` lists them. */
  const events = async (user: string) => {
    const listed = await runTool('users', ['events', user, '--json', '--limit', '100'], app.toolEnv());
    return (JSON.parse(listed.stdout) as { events: Array<{ type: string; actor: string; details: Record<string, unknown> }> }).events;
  };

  test('discovery lists both levels', () => {
    expect(app.rp.config.serverMetadata().acr_values_supported).toEqual(['1', '2']);
  });

  test('an app set up on the account page is asked for at the next sign-in: acr 2, amr pwd otp mfa', async () => {
    const { account, authenticator, recoveryCodes, browser } = await personWithApp('totp');
    expect(recoveryCodes).toHaveLength(10);
    const accountPage = expectPage(await browser.get(`${app.server.url}/account`));
    expect(accountPage.$('#two-step-heading').parent().text()).toContain('10 recovery codes left.');

    const { browser: other, authorization, next } = await password(account);
    const second = expectPage(next);
    expect(isSecondStepPage(second)).toBe(true);
    expect(second.$('input[name=password]')).toHaveLength(0);
    const claims = await finish(other, await submitTotp(other, second, await authenticator.code()), authorization);
    expect(claims).toMatchObject({ acr: '2', amr: ['pwd', 'otp', 'mfa'] });
  });

  test('a code is accepted once: a replay is refused, and of two sent at once only one passes', async () => {
    const { account, authenticator } = await personWithApp('replay');
    const code = await authenticator.code();
    const first = await password(account);
    await finish(first.browser, await submitTotp(first.browser, expectPage(first.next), code), first.authorization);

    const second = await password(account);
    const refused = expectPage(await submitTotp(second.browser, expectPage(second.next), code));
    expect(refused.status).toBe(401);
    expect(refused.$('#code-error').text()).toBe('That code was already used. Wait for your app to show the next one.');

    const racing = await Promise.all([password(account), password(account)]);
    const racingCode = await authenticator.code();
    const results = await Promise.all(racing.map(({ browser, next }) => submitTotp(browser, expectPage(next), racingCode)));
    expect(results.map((result) => (result.page ? result.page.status : 'signed in')).sort()).toEqual([200, 401]);
  });

  test('wrong codes are counted before they are checked: a burst cannot outrun the limit, and then even the right code waits', async () => {
    const { account, authenticator } = await personWithApp('throttle');
    const { browser, next } = await password(account);
    const second = expectPage(next);
    // Six attempts are free (IDP_LOGIN_FREE_FAILURES=5, then one more before the first delay).
    const burst = await Promise.all(Array.from({ length: 10 }, () => submitTotp(browser, second, '000000')));
    const statuses = burst.map((result) => expectPage(result).status).sort();
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429, 429, 429, 429]);
    const waiting = expectPage(await submitTotp(browser, second, await authenticator.code()));
    expect(waiting.status).toBe(429);
    expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(waiting.$('#mfa-error').text()).toMatch(/^Too many wrong codes\. Try again in \d+ seconds\.$/);
    // Each refusal is a security event of the account: six wrong codes, five waits (the burst's four and the right code's).
    const types = (await events(account.email)).map((event) => `${event.type}${event.details.scope ? `:${event.details.scope}` : ''}`);
    expect(types.filter((type) => type === 'login.second_factor_failed')).toHaveLength(6);
    expect(types.filter((type) => type === 'login.throttled:second_factor')).toHaveLength(5);
  });

  test('a recovery code signs in once and says how many remain; used again, or twice at once, it is refused', async () => {
    const { account, recoveryCodes } = await personWithApp('recovery');
    const [code = '', racing = ''] = recoveryCodes;
    const { browser, authorization, next } = await password(account);
    const used = expectPage(await submitRecoveryCode(browser, expectPage(next), code.toUpperCase()));
    expect(used.$('h1').text()).toBe('Recovery code accepted');
    expect(used.$('main').text()).toContain('9 recovery codes remain');
    const claims = await finish(browser, await browser.submit(used, 'form[action$="/continue"]', {}, RP_REDIRECT_URI), authorization);
    expect(claims).toMatchObject({ acr: '2', amr: ['pwd', 'otp', 'mfa'] });

    const again = await password(account);
    const refused = expectPage(await submitRecoveryCode(again.browser, expectPage(again.next), code));
    expect(refused.status).toBe(401);
    expect(refused.$('#recovery-code-error').text()).toBe('That recovery code is not right or was already used.');

    const both = await Promise.all([password(account), password(account)]);
    const results = await Promise.all(both.map(({ browser: each, next: page }) => submitRecoveryCode(each, expectPage(page), racing)));
    expect(results.map((result) => expectPage(result).status).sort()).toEqual([200, 401]);
  });

  test('the password alone never finishes the sign-in: resuming the authorization without the code signs nobody in', async () => {
    const { account } = await personWithApp('abandon');
    const { browser, next } = await password(account);
    const second = expectPage(next);
    const uid = new URL(second.url).pathname.split('/').at(-1);
    // "Continue" and "Allow" belong to later steps: without the second factor they lead back to it.
    for (const step of ['continue', 'confirm']) {
      const pushed = await browser.follow(
        `${app.server.url}/interaction/${uid}/${step}`,
        {
          method: 'POST',
          body: new URLSearchParams({ csrf: second.$('input[name=csrf]').first().attr('value') ?? '' }),
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
        },
        RP_REDIRECT_URI,
      );
      expect(pushed.redirectedTo).toBeUndefined();
      expect(isSecondStepPage(expectPage(pushed))).toBe(true);
    }
    const resumed = await browser.get(`${app.server.url}/auth/${uid}`, RP_REDIRECT_URI);
    expect(resumed.redirectedTo).toBeUndefined();
    expect(isLoginPage(expectPage(resumed))).toBe(true);
    // Nor does a session exist: the account page sends this browser to sign in.
    const accountPage = await browser.follow(`${app.server.url}/account`);
    expect(isLoginPage(expectPage(accountPage))).toBe(true);
  });

  test('someone who owes a second step cannot set up a new factor in its place', async () => {
    const { account, authenticator } = await personWithApp('replace');
    const { browser, next } = await password(account);
    const second = expectPage(next);
    const uid = new URL(second.url).pathname.split('/').at(-1);
    const forged = await browser.follow(`${app.server.url}/interaction/${uid}/mfa/setup`, {
      method: 'POST',
      body: new URLSearchParams({ csrf: second.$('input[name=csrf]').first().attr('value') ?? '', code: await authenticator.code() }),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
    });
    expect(isSecondStepPage(expectPage(forged))).toBe(true);
    const options = await browser.follow(`${app.server.url}/interaction/${uid}/passkey/register/options`, {
      method: 'POST',
      body: new URLSearchParams({ csrf: second.$('input[name=csrf]').first().attr('value') ?? '' }),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
    });
    expect(expectPage(options).status).toBe(403);
  });

  test('acr_values=2 asks a person without a factor to set one up; acr_values=1 does not', async () => {
    const { account } = await person('acr');
    const plain = await password(account, { acr_values: '1' });
    expect(await finish(plain.browser, plain.next, plain.authorization)).toMatchObject({ acr: '1', amr: ['pwd'] });

    const { browser, authorization, next } = await password(account, { acr_values: '2 1' });
    const setupPage = expectPage(next);
    expect(isSetupPage(setupPage)).toBe(true);
    expect(setupPage.$('.lead').text()).toBe('Example App requires a second step when you sign in. Set one up to continue.');
    const { page, recoveryCodes } = await setUpTotp(browser, setupPage);
    expect(recoveryCodes).toHaveLength(10);
    const claims = await finish(browser, await browser.submit(page, 'form[action$="/continue"]', {}, RP_REDIRECT_URI), authorization);
    expect(claims).toMatchObject({ acr: '2', amr: ['pwd', 'otp', 'mfa'] });
  });

  test('a client that requires MFA gets it whatever the request says', async () => {
    const { account, authenticator } = await personWithApp('strict');
    const strictRp = await RelyingParty.discover(app.server.url, strict);
    const { browser, authorization, next } = await password(account, { acr_values: '1' }, strictRp);
    const second = expectPage(next);
    expect(isSecondStepPage(second)).toBe(true);
    const claims = await finish(browser, await submitTotp(browser, second, await authenticator.code()), authorization, strictRp);
    expect(claims).toMatchObject({ acr: '2', aud: 'strict-app' });
  });

  test('step-up: a password session asked for level 2 gives only the second factor, not the password again, and keeps its auth_time', async () => {
    const { browser } = await person('stepup');
    const first = await app.rp.authorize();
    const before = await finish(browser, await browser.get(first.url, RP_REDIRECT_URI), first);
    expect(before).toMatchObject({ acr: '1', amr: ['pwd'] });
    const { authenticator } = await setUpTotp(browser, expectPage(await browser.get(`${app.server.url}/account/two-step`)));
    // The step-up happens in a later second than the password, so a new auth_time would show.
    await nextSecond();
    // Without a page to ask on (prompt=none), the app learns that the level needs a sign-in.
    const silent = await app.rp.authorize({ acr_values: '2', prompt: 'none' });
    const refused = (await browser.get(silent.url, RP_REDIRECT_URI)).redirectedTo;
    expect(refused?.searchParams.get('error')).toBe('login_required');

    const higher = await app.rp.authorize({ acr_values: '2' });
    const second = expectPage(await browser.get(higher.url, RP_REDIRECT_URI));
    expect(isSecondStepPage(second)).toBe(true);
    expect(second.$('input[name=password]')).toHaveLength(0);
    expect(second.$('.lead').text()).toBe('Example App asks for a second step before it goes on. Confirm that it is you.');
    const after = await finish(browser, await submitTotp(browser, second, await authenticator.code()), higher);
    // Only the second factor was given now: auth_time (what max_age measures) stays the password's.
    expect(after).toMatchObject({ sub: before.sub, acr: '2', amr: ['pwd', 'otp', 'mfa'], auth_time: before.auth_time });
  });

  test('prompt=login and max_age ask for the password and the code again', async () => {
    // The browser that registered is signed in; each request makes it sign in again, fully.
    const { account, authenticator, browser } = await personWithApp('reauth');
    for (const parameters of [{ prompt: 'login consent' }, { max_age: '0' }] as Array<Record<string, string>>) {
      const again = await app.rp.authorize(parameters);
      const login = expectPage(await browser.get(again.url, RP_REDIRECT_URI));
      expect(isLoginPage(login)).toBe(true);
      const second = expectPage(await signInFrom(browser, login, account.username, account.password));
      expect(isSecondStepPage(second)).toBe(true);
      const claims = await finish(browser, await submitTotp(browser, second, await authenticator.code()), again);
      expect(claims).toMatchObject({ acr: '2', amr: ['pwd', 'otp', 'mfa'] });
    }
  });

  test('IDP_MFA=required leads everyone without a factor to set one up', async () => {
    const required = await app.start({ clients: () => [client], env: { IDP_MFA: 'required' } });
    const rp = await RelyingParty.discover(required.url, client);
    const account = newAccount('required');
    const browser = new UserAgent();
    const authorization = await rp.authorize();
    const registerPage = expectPage(
      await browser.get(
        new URL((await openAuthorization(browser, authorization)).$('a[href$="/register"]').attr('href') ?? '', authorization.url),
      ),
    );
    const fields = { username: account.username, email: account.email, password: account.password, confirmPassword: account.password };
    const setupPage = expectPage(await browser.submit(registerPage, 'form[action$="/register"]', fields, RP_REDIRECT_URI));
    expect(isSetupPage(setupPage)).toBe(true);
    const { page } = await setUpTotp(browser, setupPage);
    const claims = await finish(browser, await browser.submit(page, 'form[action$="/continue"]', {}, RP_REDIRECT_URI), authorization, rp);
    expect(claims).toMatchObject({ acr: '2' });
    await required.close();
  });

  test('reset-mfa removes the factors, ends the sessions, revokes the apps, voids a sign-in staged before it, and makes the password unusable until a link resets it', async () => {
    const { account, browser, authenticator } = await personWithApp('reset');
    await app.server.users.admin.verifyEmail(account.email);
    const signedIn = await password(account);
    const code = await submitTotp(signedIn.browser, expectPage(signedIn.next), await authenticator.code());
    const tokens = await tokensOf(signedIn.browser, code, signedIn.authorization);
    // Someone with the phone and the password finishes a sign-in and keeps it for later: stopped at
    // the redirect that would resume it into a session.
    const thief = await staged(account);
    const thiefDone = expectRedirect(
      await submitTotp(thief.browser, expectPage(thief.next), await authenticator.code(), `${app.server.url}/auth/`),
    );
    await nextSecond();

    const result = await runTool('users', ['reset-mfa', account.email, '--json'], app.toolEnv());
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({
      user: { twoStep: false, recoveryCodes: 0 },
      removed: { totp: true, recoveryCodes: 10, passkeys: 0 },
      // The browser that set the app up and the one that signed in; the app's grant and the account page's.
      sessionsEnded: 2,
      grantsRevoked: 2,
      passwordUnusable: true,
      emailedTo: account.email,
    });
    expect(await app.rp.active(tokens)).toEqual({ access: false, refresh: false });
    expect(isLoginPage(expectPage(await browser.follow(`${app.server.url}/account`)))).toBe(true);
    // The staged sign-in is resumed after the reset: it no longer counts, so the sign-in page asks again.
    const resumed = await thief.browser.get(thiefDone, RP_REDIRECT_URI);
    expect(resumed.redirectedTo).toBeUndefined();
    expect(isLoginPage(expectPage(resumed))).toBe(true);
    // The old password no longer signs in: whoever has it cannot be first to set a factor up again.
    const old = await password(account);
    expect(expectPage(old.next).$('#login-error').text()).toBe('Invalid email/username or password.');

    // The person gets a reset link at their verified address, chooses a new password, and signs in with it.
    const mail = await app.smtp.waitFor(account.email, 5000, 'Your two-step verification was reset');
    const owner = new UserAgent();
    const resetPage = expectPage(await owner.get(linkIn(mail, `${app.server.url}/reset-password?token=`)));
    const newPassword = 'a brand new passphrase after the reset';
    const reset = expectPage(
      await owner.submit(resetPage, 'form[action="/reset-password"]', { password: newPassword, confirmPassword: newPassword }),
    );
    expect(reset.status).toBe(200);
    const again = await password({ ...account, password: newPassword });
    expect(await finish(again.browser, again.next, again.authorization)).toMatchObject({ acr: '1', amr: ['pwd'] });
    // The account's activity tells the story, newest first.
    const story = (await events(account.email)).filter((event) => event.type !== 'login.failed').slice(0, 3);
    expect(story).toMatchObject([
      { type: 'login.succeeded', details: { acr: '1', amr: 'pwd' } },
      { type: 'password_reset.completed' },
      { type: 'admin.mfa_reset', actor: 'admin', details: { sessionsEnded: 2, grantsRevoked: 2, recoveryCodes: 10, link: 'emailed' } },
    ]);
  });

  test('reset-mfa emails a link only to a verified address; --print-link gives it to the administrator', async () => {
    const { account } = await personWithApp('reset-unverified');
    // The service behind the tool refuses before it changes anything.
    await expect(app.server.users.admin.resetMfa(account.email)).rejects.toThrow(
      /is not verified, so a reset link sent there could reach someone else/,
    );
    expect((await app.server.stores.users.findByEmail(account.email))?.factors.totp).toBeDefined();

    const printed = await runTool('users', ['reset-mfa', account.email, '--print-link'], app.toolEnv());
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('the password no longer works');
    expect(printed.stdout).toMatch(new RegExp(`${app.server.url}/reset-password\\?token=\\S+`));
    expect(app.smtp.sentTo(account.email, 'Your two-step verification was reset')).toEqual([]);
  });

  test('on the account page, a change to a sign-in method needs a recent sign-in at the account level: a password session is sent through one with its app', async () => {
    const { account, browser, authenticator } = await personWithApp('sudo');
    const turnedOn = await app.smtp.waitFor(account.email, 5000, CHANGED);
    expect(turnedOn.text).toContain('Two-step verification with an authenticator app was turned on for your account.');
    expect(turnedOn.text).toMatch(/When: \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\)\nFrom: .+, network address 127\.0\.0\.1\n/);
    // This browser signed in with the password alone (at registration); the account has an app since.
    const otherDevice = await password(account);
    await finish(
      otherDevice.browser,
      await submitTotp(otherDevice.browser, expectPage(otherDevice.next), await authenticator.code()),
      otherDevice.authorization,
    );
    // The change below falls in a later second than that sign-in (sign-ins are dated in whole seconds).
    await nextSecond();
    const page = await accountPage(browser);

    const off = expectPage(await postWith(browser, page, '/account/two-step/off'));
    expect(isLoginPage(off)).toBe(true);
    expect(off.$('#login').val()).toBe(account.username);
    expect((await app.server.stores.users.findByEmail(account.email))?.factors.totp).toBeDefined();
    // The page's script is told where to go too, instead of getting a passkey ceremony.
    const options = await runPasskeyForm(browser, page, new SoftwareAuthenticator());
    expect(options).toEqual({ refused: 403, body: { error: 'recent_sign_in_required', location: '/account/confirm?next=passkeys' } });

    // The fresh sign-in asks for the app too (acr_values=2), then brings the person back.
    const second = expectPage(await signInFrom(browser, off, account.username, account.password));
    expect(isSecondStepPage(second)).toBe(true);
    const back = expectPage(await submitTotp(browser, second, await authenticator.code()));
    expect(back.url).toBe(`${app.server.url}/account#two-step-heading`);
    expect(back.$('.flash').text()).toBe('You signed in again: you can change how you sign in for the next 10 minutes.');
    const done = expectPage(await postWith(browser, back, '/account/two-step/off'));
    expect(done.$('.flash').text()).toBe('Two-step verification is off.');

    // The owner is told, and the sign-ins made before the change no longer count; this browser's does.
    const notice = await app.smtp.waitFor(account.email, 5000, CHANGED);
    expect(notice.text).toContain('Two-step verification with an authenticator app was turned off for your account.');
    expect(notice.text).toContain('If it was not you');
    expect(await signedInForApp(otherDevice.browser)).toBe(false);
    expect(await signedInForApp(browser)).toBe(true);
  });

  test('a sign-in more than 10 minutes old is asked again before a factor is added, even for an account that has none', async () => {
    const { account, browser } = await person('stale');
    // Ten minutes and more pass.
    await dateBackSignIn(app.server, browser);

    const asked = expectPage(await browser.get(`${app.server.url}/account/two-step`));
    expect(isLoginPage(asked)).toBe(true);
    // An account without a factor confirms with its password; then it is back at the set-up.
    expect(new URL(asked.url).pathname).toMatch(/^\/interaction\//);
    const setupPage = expectPage(await signInFrom(browser, asked, account.username, account.password));
    expect(setupPage.url).toBe(`${app.server.url}/account/two-step`);
    expect(isSetupPage(setupPage)).toBe(true);
  });

  test('an account with a passkey: a password sign-in (level 1) adds no factor; the passkey sign-in it is then asked for does', async () => {
    const { account, browser } = await person('passkey-only');
    const passkey = new SoftwareAuthenticator();
    const added = expectPage(
      ceremonyResult(await runPasskeyForm(browser, await accountPage(browser), passkey, { fields: { name: 'Software key' } })),
    );
    expect(added.$('.flash').text()).toBe('Passkey “Software key” added.');
    expect((await app.smtp.waitFor(account.email, 5000, CHANGED)).text).toContain('A passkey, “Software key”, was added to your account.');

    // A password alone still signs in at level 1 (no second factor is owed at level 1)...
    const withPassword = await password(account);
    expect(await finish(withPassword.browser, withPassword.next, withPassword.authorization)).toMatchObject({ acr: '1' });
    // ...but that session cannot bind an app: it is asked for the passkey first.
    const confirm = expectPage(await withPassword.browser.get(`${app.server.url}/account/two-step`));
    expect(isLoginPage(confirm)).toBe(true);
    const setupPage = expectPage(ceremonyResult(await runPasskeyForm(withPassword.browser, confirm, passkey)));
    expect(setupPage.url).toBe(`${app.server.url}/account/two-step`);
    expect(isSetupPage(setupPage)).toBe(true);
  });

  test('a finished sign-in adds a passkey only where this interaction offered one, to an account that has none', async () => {
    const { account } = await person('offer');
    // No offer (this browser did not say it can make passkeys): the finished interaction adds none.
    const plain = await staged(account);
    expectRedirect(plain.next);
    const refused = await postWith(plain.browser, plain.login, `/interaction/${plain.uid}/passkey/register/options`);
    expect(expectPage(refused).status).toBe(403);

    // Offered: a passkey is added there, the owner is told, and the sign-in goes on.
    const offered = await staged(account, { webauthn: '1' });
    const offerPage = expectPage(offered.next);
    expect(offerPage.$('h1').text()).toBe('Sign in faster with a passkey');
    const consent = expectPage(ceremonyResult(await runPasskeyForm(offered.browser, offerPage, new SoftwareAuthenticator())));
    expect(consent.$('form[action$="/confirm"]')).toHaveLength(1);
    expect((await app.smtp.waitFor(account.email, 5000, CHANGED)).text).toContain('A passkey, “Passkey 1”, was added to your account.');

    // The account has a passkey now: no offer, and no passkey added after a password alone.
    const later = await staged(account, { webauthn: '1' });
    expectRedirect(later.next);
    expect(expectPage(await postWith(later.browser, later.login, `/interaction/${later.uid}/passkey/register/options`)).status).toBe(403);
  });

  test('step-up for an account without a factor asks for the password before any set-up; the set-up is emailed to the owner', async () => {
    const { account, browser } = await person('stepup-bare');
    const higher = await app.rp.authorize({ acr_values: '2' });
    const asked = expectPage(await browser.get(higher.url, RP_REDIRECT_URI));
    expect(isLoginPage(asked)).toBe(true);
    expect(isSetupPage(asked)).toBe(false);
    const uid = new URL(asked.url).pathname.split('/').at(-1);
    // The set-up's own route refuses the session alone too.
    const forged = expectPage(await postWith(browser, asked, `/interaction/${uid}/mfa/setup`, { code: '123456' }));
    expect(isLoginPage(forged)).toBe(true);
    expect(expectPage(await postWith(browser, asked, `/interaction/${uid}/passkey/register/options`)).status).toBe(403);

    const setupPage = expectPage(await signInFrom(browser, asked, account.username, account.password));
    expect(isSetupPage(setupPage)).toBe(true);
    const { page } = await setUpTotp(browser, setupPage);
    const claims = await finish(browser, await browser.submit(page, 'form[action$="/continue"]', {}, RP_REDIRECT_URI), higher);
    expect(claims).toMatchObject({ acr: '2', amr: ['pwd', 'otp', 'mfa'] });
    const notice = await app.smtp.waitFor(account.email, 5000, CHANGED);
    expect(notice.text).toContain('Two-step verification with an authenticator app was turned on for your account.');
    expect((await storedEvents(account.email)).find((event) => event.type === 'mfa.totp_enabled')).toMatchObject({
      details: { during: 'sign-in' },
    });
  });

  test('a set-up secret belongs to its own page: one shown in another sign-in is never offered, nor accepted, on the account page', async () => {
    const { account, browser } = await person('ceremony');
    const elsewhere = await password(account, { acr_values: '2' });
    const seeded = secretOn(expectPage(elsewhere.next));
    const ownPage = expectPage(await browser.get(`${app.server.url}/account/two-step`));
    expect(secretOn(ownPage)).not.toBe(seeded);
    const refused = expectPage(await browser.submit(ownPage, 'form:has(input[name=code])', { code: totpCode(seeded) }));
    expect(refused.status).toBe(400);
    expect((await app.server.stores.users.findByEmail(account.email))?.factors.totp).toBeUndefined();
  });

  test('100 wrong codes in a row block the app until a recovery code works; the owner is told at the 5th and at the block', async () => {
    // An instance of its own, whose throttle waits only a second after its 100 free failures (the
    // delays are tested above), for a client at an address of its own (so the address limit of the
    // file's app is not touched).
    const lenient = await app.start({
      clients: () => [client],
      env: {
        IDP_LOGIN_FREE_FAILURES: '100',
        IDP_LOGIN_BASE_DELAY: '1',
        IDP_LOGIN_MAX_DELAY: '1',
        IDP_IP_MAX_FAILURES: '1000',
        TRUST_PROXY: 'true',
      },
    });
    const rp = await RelyingParty.discover(lenient.url, client);
    const { account, authenticator, recoveryCodes } = await personWithApp('ceiling');
    const browser = new UserAgent({ forwardedFor: '203.0.113.7' });
    const authorization = await rp.authorize();
    const second = expectPage(
      await signInFrom(browser, await openAuthorization(browser, authorization), account.username, account.password),
    );
    const wrong = async (count: number) => {
      for (let sent = 0; sent < count; sent += 10) {
        const burst = await Promise.all(Array.from({ length: Math.min(10, count - sent) }, () => submitTotp(browser, second, '000000')));
        expect(burst.map((result) => expectPage(result).status)).toEqual(burst.map(() => 401));
      }
    };
    await wrong(4);
    expect(app.smtp.sentTo(account.email, 'Wrong codes were entered for your account')).toEqual([]);
    await wrong(1);
    const warning = await app.smtp.waitFor(account.email, 5000, 'Wrong codes were entered for your account');
    expect(warning.text).toContain('entered 5 wrong two-step verification codes in a row');
    expect(warning.text).toContain('change it now');

    await wrong(95);
    expect((await app.smtp.waitFor(account.email, 5000, 'Your authenticator app was blocked')).text).toContain(
      'After 100 wrong codes in a row',
    );
    // Now even the right code is refused (once the throttle's second has passed), and the page says
    // why: only here, after the password.
    await sleep(1100);
    const blocked = expectPage(await submitTotp(browser, second, await authenticator.code()));
    expect(blocked.status).toBe(403);
    expect(blocked.$('#mfa-blocked').text()).toContain('Your authenticator app is blocked after too many wrong codes.');
    expect(blocked.$('form:has(input[name=method][value=totp])')).toHaveLength(0);
    expect((await storedEvents(account.email)).some((event) => event.type === 'mfa.totp_blocked')).toBe(true);

    // A recovery code works, and unblocks the app.
    await sleep(1100);
    const recovered = expectPage(await submitRecoveryCode(browser, blocked, recoveryCodes[0] ?? ''));
    expect(recovered.$('h1').text()).toBe('Recovery code accepted');
    const after = await password(account);
    const code = await submitTotp(after.browser, expectPage(after.next), await authenticator.code());
    expect(await finish(after.browser, code, after.authorization)).toMatchObject({ acr: '2' });
  });
});

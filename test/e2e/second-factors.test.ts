import { describe, expect, jest, test } from '@jest/globals';
import type { IDToken } from 'openid-client';
import { useTestApp } from '../support/app-fixture.ts';
import { runTool } from '../support/cli.ts';
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
import { isSecondStepPage, isSetupPage, setUpTotp, submitRecoveryCode, submitTotp } from '../support/second-factors.ts';
import { expectPage, type FollowResult, UserAgent } from '../support/user-agent.ts';

// Several tests run the users tool as a process, or sign a person in three times.
jest.setTimeout(60_000);

/**
 * Second factors end to end, with openid-client as the relying party over real HTTP against the app
 * on real Redis and MongoDB: an authenticator app set up on the account page, the second step of a
 * sign-in (replay, throttle, recovery codes), what requires it (acr_values, a client, IDP_MFA),
 * step-up, re-authentication, and the administrator's reset.
 */
describe('second factors', () => {
  const client = rpClient();
  const strict = rpClient({ client_id: 'strict-app', client_name: 'Strict App', require_mfa: true } as Parameters<typeof rpClient>[0]);
  const app = useTestApp('second-factors', { clients: () => [client, strict], relyingParty: client });

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
    const claims = await finish(other, await submitTotp(other, second, authenticator.code()), authorization);
    expect(claims).toMatchObject({ acr: '2', amr: ['pwd', 'otp', 'mfa'] });
  });

  test('a code is accepted once: a replay is refused, and of two sent at once only one passes', async () => {
    const { account, authenticator } = await personWithApp('replay');
    const code = authenticator.code();
    const first = await password(account);
    await finish(first.browser, await submitTotp(first.browser, expectPage(first.next), code), first.authorization);

    const second = await password(account);
    const refused = expectPage(await submitTotp(second.browser, expectPage(second.next), code));
    expect(refused.status).toBe(401);
    expect(refused.$('#code-error').text()).toBe('That code was already used. Wait for your app to show the next one.');

    const racing = await Promise.all([password(account), password(account)]);
    const racingCode = authenticator.code();
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
    const waiting = expectPage(await submitTotp(browser, second, authenticator.code()));
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
      body: new URLSearchParams({ csrf: second.$('input[name=csrf]').first().attr('value') ?? '', code: authenticator.code() }),
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
    const claims = await finish(browser, await submitTotp(browser, second, authenticator.code()), authorization, strictRp);
    expect(claims).toMatchObject({ acr: '2', aud: 'strict-app' });
  });

  test('step-up: a password session asked for level 2 gives only the second factor, not the password again', async () => {
    const { browser } = await person('stepup');
    const first = await app.rp.authorize();
    const before = await finish(browser, await browser.get(first.url, RP_REDIRECT_URI), first);
    expect(before).toMatchObject({ acr: '1', amr: ['pwd'] });
    const { authenticator } = await setUpTotp(browser, expectPage(await browser.get(`${app.server.url}/account/two-step`)));
    // Without a page to ask on (prompt=none), the app learns that the level needs a sign-in.
    const silent = await app.rp.authorize({ acr_values: '2', prompt: 'none' });
    const refused = (await browser.get(silent.url, RP_REDIRECT_URI)).redirectedTo;
    expect(refused?.searchParams.get('error')).toBe('login_required');

    const higher = await app.rp.authorize({ acr_values: '2' });
    const second = expectPage(await browser.get(higher.url, RP_REDIRECT_URI));
    expect(isSecondStepPage(second)).toBe(true);
    expect(second.$('input[name=password]')).toHaveLength(0);
    expect(second.$('.lead').text()).toBe('Example App asks for a second step before it goes on. Confirm that it is you.');
    const after = await finish(browser, await submitTotp(browser, second, authenticator.code()), higher);
    expect(after).toMatchObject({ sub: before.sub, acr: '2', amr: ['pwd', 'otp', 'mfa'] });
    expect(after.auth_time).toBeGreaterThanOrEqual(before.auth_time ?? 0);
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
      const claims = await finish(browser, await submitTotp(browser, second, authenticator.code()), again);
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

  test('reset-mfa removes the factors, ends the sessions and revokes the apps; the password then signs in alone', async () => {
    const { account, browser, authenticator } = await personWithApp('reset');
    const signedIn = await password(account);
    const code = await submitTotp(signedIn.browser, expectPage(signedIn.next), authenticator.code());
    const tokens = await tokensOf(signedIn.browser, code, signedIn.authorization);
    const result = await runTool('users', ['reset-mfa', account.email, '--json'], app.toolEnv());
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      user: { twoStep: false, recoveryCodes: 0 },
      removed: { totp: true, recoveryCodes: 10, passkeys: 0 },
      // The browser that set the app up and the one that signed in; the app's grant and the account page's.
      sessionsEnded: 2,
      grantsRevoked: 2,
    });
    expect(await app.rp.active(tokens)).toEqual({ access: false, refresh: false });
    expect(isLoginPage(expectPage(await browser.follow(`${app.server.url}/account`)))).toBe(true);

    const again = await password(account);
    expect(await finish(again.browser, again.next, again.authorization)).toMatchObject({ acr: '1', amr: ['pwd'] });
    // The account's activity tells the story, newest first.
    const story = (await events(account.email)).slice(0, 3);
    expect(story).toMatchObject([
      { type: 'login.succeeded', details: { acr: '1', amr: 'pwd' } },
      { type: 'admin.mfa_reset', actor: 'admin', details: { sessionsEnded: 2, grantsRevoked: 2, recoveryCodes: 10 } },
      { type: 'login.succeeded', details: { acr: '2', amr: 'pwd otp mfa' } },
    ]);
  });
});

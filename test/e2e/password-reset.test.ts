import { describe, expect, test } from '@jest/globals';
import { useTestApp } from '../support/app-fixture.ts';
import { sleep } from '../support/eventually.ts';
import {
  allowConsent,
  type NewAccount,
  newAccount,
  openAuthorization,
  RelyingParty,
  RP_REDIRECT_URI,
  registerAndConsent,
  rpClient,
  signInFrom,
} from '../support/relying-party.ts';
import { linkIn } from '../support/smtp.ts';
import { expectPage, expectRedirect, type Page, UserAgent } from '../support/user-agent.ts';

/** "Forgot password?" over real SMTP, against real Redis and MongoDB. */
describe('password reset', () => {
  const client = rpClient();
  const logLines: string[] = [];
  const app = useTestApp('password-reset', {
    clients: () => [client],
    logLines,
    env: { TRUST_PROXY: 'true', IDP_RESET_MAX_PER_EMAIL: '2', IDP_RESET_MAX_PER_IP: '6' },
    relyingParty: client,
    mail: true,
  });

  const browserAt = (ip: string) => new UserAgent({ forwardedFor: ip });
  const registered = async (label: string): Promise<NewAccount> => {
    const account = newAccount(label);
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);
    await app.smtp.waitFor(account.email); // the verification email
    return account;
  };
  const askForReset = async (agent: UserAgent, email: string): Promise<{ page: Page; loginPage: Page }> => {
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    const forgot = expectPage(await agent.get(new URL(loginPage.$('a[href$="/forgot"]').attr('href') ?? '', loginPage.url)));
    expect(forgot.$('h1').text()).toBe('Reset your password');
    return { page: expectPage(await agent.submit(forgot, 'form[action$="/forgot"]', { email })), loginPage };
  };
  const mainText = (page: Page, email: string) => page.$('main').text().replace(email, 'EMAIL');
  /** What the server logged about the reset requests from `ip`; it logs each before it answers. */
  const resetEvents = (ip: string) =>
    logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => String(line.event).startsWith('password_reset.') && line.ip === ip);

  test('the answer is the same for known and unknown addresses; only a known one gets an email', async () => {
    const account = await registered('known');
    const known = (await askForReset(browserAt('10.9.0.1'), account.email)).page;
    const unknown = (await askForReset(browserAt('10.9.0.2'), 'nobody-at-all@example.com')).page;
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(known.status);
    expect(mainText(unknown, 'nobody-at-all@example.com')).toBe(mainText(known, account.email));
    expect((await app.smtp.waitFor(account.email)).subject).toBe('Reset your password');
    // Before it answered, the server found no account for the unknown address, so no email is on its way.
    expect(resetEvents('10.9.0.2')).toEqual([expect.objectContaining({ event: 'password_reset.requested', known: false })]);
    expect(app.smtp.messages.some((mail) => mail.text?.includes('nobody-at-all'))).toBe(false);
  });

  test('the link sets a new password under the policy, ends every session, and leads back to the app', async () => {
    const account = await registered('reset');
    const signedIn = new UserAgent();
    await registerAndConsent(signedIn, await app.rp.authorize(), { ...newAccount('other-device') });
    const device = new UserAgent(); // a device where the account owner is signed in
    const devicePage = await openAuthorization(device, await app.rp.authorize());
    await allowConsent(device, expectPage(await signInFrom(device, devicePage, account.username, account.password)));

    const agent = browserAt('10.9.0.3');
    const { loginPage } = await askForReset(agent, account.email);
    const link = linkIn(await app.smtp.waitFor(account.email), `${app.server.url}/reset-password?token=`);

    const form = expectPage(await agent.get(link));
    expect(form.$('h1').text()).toBe('Choose a new password');
    const weak = expectPage(
      await agent.submit(form, 'form[action="/reset-password"]', { password: 'qwerty123456789', confirmPassword: 'qwerty123456789' }),
    );
    expect(weak.status).toBe(400);
    expect(weak.$('[role=alert]').text()).toContain('common or have appeared in data breaches');

    const newPassword = 'a brand new and long passphrase';
    const done = expectPage(
      await agent.submit(weak, 'form[action="/reset-password"]', { password: newPassword, confirmPassword: newPassword }),
    );
    expect(done.$('h1').text()).toBe('Password changed');

    // Every session of that user ended; another user's session did not.
    const silent = (browser: UserAgent) =>
      app.rp
        .authorize({ prompt: 'none', scope: 'openid' })
        .then(async (authorization) => expectRedirect(await browser.get(authorization.url, RP_REDIRECT_URI)).searchParams.get('error'));
    expect(await silent(device)).toBe('login_required');
    expect(await silent(signedIn)).toBeNull();

    // "Continue signing in" returns to the authorization the person came from.
    const back = expectPage(await agent.get(new URL(done.$('a.button').attr('href') ?? '', done.url)));
    expect(back.url).toBe(loginPage.url);
    const wrongOld = expectPage(await signInFrom(agent, back, account.username, account.password));
    expect(wrongOld.status).toBe(401);
    const consent = expectPage(await signInFrom(agent, wrongOld, account.username, newPassword));
    expect(consent.$('h1').text()).toContain('wants to access your account');

    // The link was used up.
    const reused = expectPage(await new UserAgent().get(link));
    expect(reused.status).toBe(400);
    expect(reused.$('h1').text()).toBe('Link not valid');
  });

  test("a reset by the link revokes the apps' tokens too", async () => {
    const account = newAccount('tokens');
    const authorization = await app.rp.authorize();
    const tokens = await app.rp.exchange(authorization, await registerAndConsent(new UserAgent(), authorization, account));
    await app.smtp.waitFor(account.email); // the verification email
    expect(await app.rp.active(tokens)).toEqual({ access: true, refresh: true });

    const agent = browserAt('10.9.0.4');
    await askForReset(agent, account.email);
    const form = expectPage(await agent.get(linkIn(await app.smtp.waitFor(account.email), `${app.server.url}/reset-password?token=`)));
    const newPassword = 'an entirely new and long passphrase';
    const done = expectPage(
      await agent.submit(form, 'form[action="/reset-password"]', { password: newPassword, confirmPassword: newPassword }),
    );
    expect(done.$('h1').text()).toBe('Password changed');
    expect(await app.rp.active(tokens)).toEqual({ access: false, refresh: false });
    await expect(app.rp.refresh(tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('links expire', async () => {
    const shortLived = await app.start({ clients: () => [client], env: { IDP_PASSWORD_RESET_TTL: '1' } });
    try {
      const account = newAccount('expire');
      const shortRp = await RelyingParty.discover(shortLived.url, client);
      await registerAndConsent(new UserAgent(), await shortRp.authorize(), account);
      await app.smtp.waitFor(account.email);
      const agent = new UserAgent();
      const loginPage = await openAuthorization(agent, await shortRp.authorize());
      const forgot = expectPage(await agent.get(new URL(`${new URL(loginPage.url).pathname}/forgot`, loginPage.url)));
      await agent.submit(forgot, 'form[action$="/forgot"]', { email: account.email });
      const link = linkIn(await app.smtp.waitFor(account.email), `${shortLived.url}/reset-password?token=`);
      await sleep(1300);
      expect(
        expectPage(await agent.get(link))
          .$('h1')
          .text(),
      ).toBe('Link not valid');
    } finally {
      await shortLived.close();
    }
  });

  test('requests are limited per address (silently) and per IP address (with a wait)', async () => {
    const account = await registered('limited');
    for (let index = 0; index < 3; index += 1) {
      const page = (await askForReset(browserAt(`10.9.1.${index}`), account.email)).page;
      expect(page.$('h1').text()).toBe('Check your email');
    }
    // The first two links arrive; the third request was refused for the address before its answer.
    await app.smtp.waitFor(account.email);
    await app.smtp.waitFor(account.email);
    expect(resetEvents('10.9.1.2')).toEqual([expect.objectContaining({ event: 'password_reset.throttled', scope: 'email' })]);
    const resets = app.smtp.messages.filter((mail) => mail.subject === 'Reset your password' && mail.text?.includes(account.username));
    expect(resets).toHaveLength(2); // the third request got the same answer but no email

    const ip = browserAt('10.9.2.1');
    for (let index = 0; index < 6; index += 1) await askForReset(ip, `someone${index}@example.com`);
    const limited = (await askForReset(ip, 'someone-else@example.com')).page;
    expect(limited.status).toBe(429);
    expect(limited.$('[role=alert]').text()).toMatch(/^Too many reset requests from your network\. Try again in \d+ minutes\.$/);
  });
});

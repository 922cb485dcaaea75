import { beforeAll, describe, expect, test } from '@jest/globals';
import { useTestApp } from '../support/app-fixture.ts';
import {
  allowConsent,
  newAccount,
  openAuthorization,
  RelyingParty,
  registerAndConsent,
  registerFrom,
  rpClient,
  signInFrom,
} from '../support/relying-party.ts';
import { linkIn } from '../support/smtp.ts';
import type { RunningApp } from '../support/test-app.ts';
import { expectPage, UserAgent } from '../support/user-agent.ts';

/** Verification links over real SMTP (an in-process SMTP server), followed as a person would. */
describe('email verification', () => {
  const client = rpClient();
  let strict: RunningApp;
  const app = useTestApp('email-verification', { clients: () => [client], relyingParty: client, mail: true });
  beforeAll(async () => {
    strict = await app.start({ clients: () => [client], env: { IDP_REQUIRE_VERIFIED_EMAIL: 'true' } });
  });

  const verifyWith = async (link: URL) => {
    const agent = new UserAgent();
    const page = expectPage(await agent.get(link));
    expect(page.$('h1').text()).toBe('Verify your email address');
    return expectPage(await agent.submit(page, 'form[action="/verify-email"]'));
  };

  test('registration sends a link; following it sets email_verified, which the tokens then carry', async () => {
    const account = newAccount('verify');
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);
    const mail = await app.smtp.waitFor(account.email);
    expect(mail.subject).toBe('Verify your email address');
    expect(mail.html).toContain('Verify my email address');
    const link = linkIn(mail, `${app.server.url}/verify-email?token=`);

    const done = await verifyWith(link);
    expect(done.$('h1').text()).toBe('Email verified');

    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    const consent = expectPage(await signInFrom(agent, await openAuthorization(agent, authorization), account.username, account.password));
    const tokens = await app.rp.exchange(authorization, await allowConsent(agent, consent));
    expect((await app.rp.userinfo(tokens.access_token, tokens.claims()?.sub ?? '')).email_verified).toBe(true);

    // The link is single-use.
    const again = await verifyWith(link);
    expect(again.status).toBe(400);
    expect(again.$('h1').text()).toBe('Link not valid');
  });

  test('a prefetch of the link (GET) does not use it up; a forged POST is refused', async () => {
    const account = newAccount('prefetch');
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);
    const link = linkIn(await app.smtp.waitFor(account.email), `${app.server.url}/verify-email?token=`);
    await new UserAgent().get(link); // a mail scanner
    const forged = await fetch(new URL('/verify-email', app.server.url), {
      method: 'POST',
      body: new URLSearchParams({ token: link.searchParams.get('token') ?? '', csrf: 'x.y' }),
    });
    expect(forged.status).toBe(403);
    await forged.text();
    expect((await verifyWith(link)).$('h1').text()).toBe('Email verified');
  });

  test('with IDP_REQUIRE_VERIFIED_EMAIL, unverified people cannot sign in to apps until they follow the link', async () => {
    const strictRp = await RelyingParty.discover(strict.url, client);
    const account = newAccount('strict');
    const agent = new UserAgent();
    const created = expectPage(await registerFrom(agent, await openAuthorization(agent, await strictRp.authorize()), account));
    expect(created.$('h1').text()).toBe('Check your email');
    const firstLink = linkIn(await app.smtp.waitFor(account.email), `${strict.url}/verify-email?token=`);

    const browser = new UserAgent();
    const refused = expectPage(
      await signInFrom(browser, await openAuthorization(browser, await strictRp.authorize()), account.email, account.password),
    );
    expect(refused.status).toBe(403);
    expect(refused.$('[role=alert]').text()).toBe('Please verify your email address first. We have sent you a new link.');
    await app.smtp.waitFor(account.email); // the resent link

    expect((await verifyWith(firstLink)).$('h1').text()).toBe('Email verified');
    const allowed = expectPage(
      await signInFrom(browser, await openAuthorization(browser, await strictRp.authorize()), account.email, account.password),
    );
    expect(allowed.$('h1').text()).toContain('wants to access your account');
  });
});

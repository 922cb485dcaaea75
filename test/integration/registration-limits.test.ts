import { describe, expect, test } from '@jest/globals';
import type { ParsedMail } from 'mailparser';
import { useTestApp } from '../support/app-fixture.ts';
import { type NewAccount, newAccount, openAuthorization, RP_REDIRECT_URI, rpClient, signInFrom } from '../support/relying-party.ts';
import { expectPage, type Page, UserAgent } from '../support/user-agent.ts';

/**
 * What one address can make the server create or send: accounts per address, verification emails
 * per recipient and per requesting address (hardening item 8). Small limits, against the real
 * Redis; the client IP comes from X-Forwarded-For behind a trusted proxy. With
 * IDP_REQUIRE_VERIFIED_EMAIL, each sign-in of an unverified account asks for a new link.
 */
describe('registration and verification email limits', () => {
  const client = rpClient();
  const logLines: string[] = [];
  const app = useTestApp('registration-limits', {
    clients: () => [client],
    logLines,
    mail: true,
    env: {
      TRUST_PROXY: 'true',
      IDP_REQUIRE_VERIFIED_EMAIL: 'true',
      IDP_REGISTER_MAX_PER_IP: '3',
      IDP_VERIFY_MAX_PER_EMAIL: '3',
      IDP_VERIFY_MAX_PER_IP: '4',
    },
    relyingParty: client,
  });

  const browserAt = (ip: string) => new UserAgent({ forwardedFor: ip });
  /** A registration form opened at `ip`, ready to be sent. */
  const registrationForm = async (ip: string) => {
    const agent = browserAt(ip);
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    const form = expectPage(await agent.get(new URL(loginPage.$('a[href$="/register"]').attr('href') ?? '', loginPage.url)));
    return { agent, form, account: newAccount('limited') };
  };
  const register = async ({ agent, form, account }: { agent: UserAgent; form: Page; account: NewAccount }) => {
    const fields = { username: account.username, email: account.email, password: account.password, confirmPassword: account.password };
    return expectPage(await agent.submit(form, 'form[action$="/register"]', fields, RP_REDIRECT_URI));
  };
  /** A sign-in of an unverified account: refused, and a new verification link is asked for. */
  const signInUnverified = async (ip: string, account: NewAccount) => {
    const agent = browserAt(ip);
    const page = expectPage(
      await signInFrom(agent, await openAuthorization(agent, await app.rp.authorize()), account.email, account.password),
    );
    expect(page.$('[role=alert]').text()).toBe('Please verify your email address first. We have sent you a new link.');
    return page;
  };
  // The server answers only after the SMTP server accepted the message, so every email a request
  // caused has arrived by the time its page has; nothing to wait for.
  const mailsTo = (email: string) =>
    app.smtp.messages.filter((mail: ParsedMail) =>
      (Array.isArray(mail.to) ? mail.to : [mail.to]).some((to) => to?.value.some((entry) => entry.address === email)),
    );
  const throttled = (scopeName: 'ip' | 'recipient') =>
    logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.event === 'mail.throttled' && line.scope === scopeName);

  test('a burst of registrations from one address: 3 accounts, the rest 429 with Retry-After and a message saying why', async () => {
    const forms = await Promise.all(Array.from({ length: 8 }, () => registrationForm('198.51.100.7')));
    const pages = await Promise.all(forms.map(register));

    const created = pages.filter((page) => page.status === 200);
    const refused = pages.filter((page) => page.status === 429);
    expect({ created: created.length, refused: refused.length }).toEqual({ created: 3, refused: 5 });
    expect(created.map((page) => page.$('h1').text())).toEqual(['Check your email', 'Check your email', 'Check your email']);
    for (const page of refused) {
      const retryAfter = Number(page.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(page.$('#register-error').text()).toBe(
        `Too many accounts were created from your network recently. Try again in ${Math.ceil(retryAfter / 60)} minutes, or sign in if you already have an account.`,
      );
    }
    // Only the accounts that were answered "created" exist.
    const stored = await Promise.all(forms.map(({ account }) => app.server.stores.users.findByEmail(account.email)));
    expect(stored.filter(Boolean)).toHaveLength(3);

    // Another address is not affected.
    expect((await register(await registrationForm('198.51.100.8'))).status).toBe(200);
  });

  test('verification emails to one address stop at IDP_VERIFY_MAX_PER_EMAIL, however often a new link is asked for', async () => {
    const registration = await registrationForm('198.51.100.20');
    expect((await register(registration)).status).toBe(200); // the first email
    const { account } = registration;
    // Four more links asked for at once, each from its own address, so only the recipient's limit
    // applies (four correct passwords at once stay within the sign-in throttle's free attempts).
    const pages = await Promise.all([21, 22, 23, 24].map((host) => signInUnverified(`198.51.100.${host}`, account)));
    expect(pages.map((page) => page.status)).toEqual([403, 403, 403, 403]);
    expect(mailsTo(account.email).length).toBe(3);
    const user = await app.server.stores.users.findByEmail(account.email);
    expect(throttled('recipient').filter((line) => line.userId === user?.id)).toHaveLength(2);
  });

  test('verification emails caused from one address stop at IDP_VERIFY_MAX_PER_IP, whoever they go to', async () => {
    // Three people registered from addresses of their own: one email each, within every limit.
    const registrations = await Promise.all([31, 32, 33].map((host) => registrationForm(`198.51.100.${host}`)));
    expect((await Promise.all(registrations.map(register))).map((page) => page.status)).toEqual([200, 200, 200]);
    const accounts = registrations.map(({ account }) => account);

    // From one address, two new links for each of them at once: six asked for, four sent.
    const ip = '198.51.100.40';
    await Promise.all([...accounts, ...accounts].map((account) => signInUnverified(ip, account)));
    const received = accounts.map((account) => mailsTo(account.email).length);
    expect(received.reduce((sum, count) => sum + count, 0)).toBe(3 + 4); // one at registration each, then four of the six
    expect(throttled('ip').filter((line) => line.ip === ip)).toHaveLength(2);
  });
});

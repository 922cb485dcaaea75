import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { IDToken } from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { useTestApp } from '../support/app-fixture.ts';
import {
  addVirtualAuthenticator,
  credentialsOf,
  launchBrowser,
  newContext,
  type RelyingPartySite,
  recordWebAuthnRequests,
  startRelyingPartySite,
  watchProblems,
  withoutPasskeyAutofill,
} from '../support/browser.ts';
import { type Authorization, type NewAccount, newAccount, rpClient } from '../support/relying-party.ts';
import { AuthenticatorApp } from '../support/second-factors.ts';

/**
 * Passkeys in Debian's Chromium, with real WebAuthn: Chrome's virtual authenticator (DevTools
 * protocol, internal transport, resident keys, user verification) plays the laptop's fingerprint
 * reader, openid-client the app. The issuer is http://localhost:PORT: a WebAuthn relying party id
 * must be a domain name, and localhost is the one secure context plain http has.
 */
describe('passkeys in a real browser', () => {
  let site: RelyingPartySite;
  let client: ReturnType<typeof rpClient>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    [site, browser] = await Promise.all([startRelyingPartySite(), launchBrowser()]);
    client = rpClient({ redirect_uris: [site.redirectUri], post_logout_redirect_uris: [site.postLogoutUri] });
  }, 60_000);
  const app = useTestApp('browser-passkeys', () => ({ clients: () => [client], relyingParty: client, hostname: 'localhost' }));
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  /** A new browser profile with a platform authenticator; `autofill: false` plays a browser without passkey autofill. */
  async function newPage({ autofill }: { autofill: boolean }) {
    const context = await newContext(browser);
    contexts.push(context);
    const mediations = await recordWebAuthnRequests(context);
    if (!autofill) await withoutPasskeyAutofill(context);
    const page = await context.newPage();
    watchProblems(page, problems);
    return { page, mediations, authenticator: await addVirtualAuthenticator(context, page) };
  }

  async function startAt(page: Page): Promise<Authorization> {
    const authorization = await app.rp.authorize({ redirect_uri: site.redirectUri });
    await page.goto(authorization.url.toString());
    return authorization;
  }

  async function heading(page: Page, text: string): Promise<void> {
    await page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor({ timeout: 15_000 });
  }

  async function register(page: Page, account: NewAccount): Promise<void> {
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill(account.username);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByLabel('Confirm password').fill(account.password);
    await page.getByRole('button', { name: 'Create account' }).click();
  }

  /** Allows consent and exchanges the code the browser brings back: the ID token's claims. */
  async function allowAndExchange(page: Page, authorization: Authorization): Promise<IDToken> {
    await heading(page, 'Example App wants to access your account');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.toString().startsWith(site.redirectUri));
    return (await app.rp.exchange(authorization, new URL(page.url()))).claims() as IDToken;
  }

  async function signOut(page: Page): Promise<void> {
    await page.goto(`${app.server.url}/logout`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'You have been signed out');
  }

  test('a passkey added on the account page signs in without the password: acr 2, amr hwk user mfa', async () => {
    const { page, authenticator, mediations } = await newPage({ autofill: false });
    const account = newAccount('passkey');
    const first = await startAt(page);
    await register(page, account);
    // Offered once, right after registration, and skippable.
    await heading(page, 'Sign in faster with a passkey');
    await page.getByRole('button', { name: 'Not now' }).click();
    expect(await allowAndExchange(page, first)).toMatchObject({ acr: '1', amr: ['pwd'] });

    // Not offered again on this device.
    await signOut(page);
    const second = await startAt(page);
    await page.getByLabel('Email or username').fill(account.username);
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await allowAndExchange(page, second);

    await page.goto(`${app.server.url}/account`);
    await page.getByLabel('Name of the new passkey').fill('Work laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Passkey “Work laptop” added.').waitFor();
    const listed = page.locator('.passkeys li').filter({ hasText: 'Work laptop' });
    await expect(listed.textContent()).resolves.toContain('not used yet');
    const [credential] = await credentialsOf(authenticator);
    expect(credential).toMatchObject({ rpId: 'localhost', isResidentCredential: true, userName: account.username });

    await signOut(page);
    const third = await startAt(page);
    await heading(page, 'Sign in');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const claims = await allowAndExchange(page, third);
    expect(claims).toMatchObject({ acr: '2', amr: ['hwk', 'user', 'mfa'] });
    expect(mediations).toEqual(['modal']);

    await page.goto(`${app.server.url}/account`);
    await expect(listed.textContent()).resolves.toContain('last used');
    await listed.getByRole('button', { name: 'Remove passkey “Work laptop”' }).click();
    await page.getByText('Passkey “Work laptop” removed.').waitFor();
    await page.getByText('You have no passkeys yet.').waitFor();
  }, 90_000);

  test('the passkey offered after registration, then a sign-in through autofill (conditional mediation)', async () => {
    const { page, authenticator, mediations } = await newPage({ autofill: true });
    const account = newAccount('autofill');
    const first = await startAt(page);
    await register(page, account);
    await heading(page, 'Sign in faster with a passkey');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await allowAndExchange(page, first);
    expect(await credentialsOf(authenticator)).toHaveLength(1);

    await signOut(page);
    // The sign-in page asks for passkeys in the username field's autofill as it loads; Chromium's
    // virtual authenticator answers that request itself, as a person picking the passkey would.
    mediations.length = 0;
    const second = await startAt(page);
    const claims = await allowAndExchange(page, second);
    expect(claims).toMatchObject({ acr: '2', amr: ['hwk', 'user', 'mfa'] });
    expect(mediations).toEqual(['conditional']);
  }, 90_000);

  test('a passkey as the second step after a password', async () => {
    const { page } = await newPage({ autofill: false });
    const account = newAccount('second');
    const first = await startAt(page);
    await register(page, account);
    await heading(page, 'Sign in faster with a passkey');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await allowAndExchange(page, first);
    await page.goto(`${app.server.url}/account/two-step`);
    const authenticatorApp = new AuthenticatorApp(((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, ''));
    await page.getByLabel('Enter the 6-digit code the app shows').fill(authenticatorApp.code());
    await page.getByRole('button', { name: 'Turn on' }).click();
    await heading(page, 'Save your recovery codes');

    await signOut(page);
    const second = await startAt(page);
    await page.getByLabel('Email or username').fill(account.username);
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await heading(page, 'Two-step verification');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    expect(await allowAndExchange(page, second)).toMatchObject({ acr: '2', amr: ['pwd', 'hwk', 'user', 'mfa'] });
  }, 90_000);

  test('no page broke its CSP or logged an error', () => {
    expect(problems).toEqual([]);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '../../scripts/lib/local-services.ts';
import { useTestApp } from '../support/app-fixture.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import {
  type AxeViolation,
  addVirtualAuthenticator,
  axeViolations,
  launchBrowser,
  newContext,
  type RelyingPartySite,
  RP_LOGO_URI,
  routeRelyingPartyLogo,
  SCREENSHOT_DIR,
  screenshot,
  startRelyingPartySite,
  watchProblems,
} from '../support/browser.ts';
import { newAccount, RelyingParty, rpClient } from '../support/relying-party.ts';
import { AuthenticatorApp } from '../support/second-factors.ts';
import { linkIn } from '../support/smtp.ts';
import { startTestApp } from '../support/test-app.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../support/upstream-idp.ts';

const BRAND_LOGO = 'https://brand.example.test/logo.svg';
const BRAND_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="15" fill="#0f766e"/><path d="M10 22l6-13 6 13" stroke="#fff" stroke-width="3" fill="none" stroke-linejoin="round"/></svg>`;

interface PageResult {
  page: string;
  scheme: 'light' | 'dark';
  serious: AxeViolation[];
  /** Moderate and minor findings: recorded in the artifact, not a failure. */
  other: AxeViolation[];
}

/**
 * Every page a person can see, checked with axe-core in light and dark mode (zero serious or critical
 * violations), with a screenshot of each in test-artifacts/screenshots. The server is branded the
 * way an operator would do it, so the brand colour's contrast is checked too.
 */
describe('every page passes axe-core, light and dark', () => {
  let site: RelyingPartySite;
  let client: ReturnType<typeof rpClient>;
  let browser: Browser;
  let page: Page;
  const results: PageResult[] = [];
  const problems: string[] = [];
  const account = newAccount('a11y');
  // An upstream identity provider (this server again, on 127.0.0.2), so the "Continue with" pages are checked too.
  let upstream: UpstreamIdp;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    [site, browser, upstream] = await Promise.all([
      startRelyingPartySite(),
      launchBrowser(),
      startUpstreamIdp({ downstreamPort: port, downstreamHost: 'localhost' }),
    ]);
    client = rpClient({
      redirect_uris: [site.redirectUri],
      logo_uri: RP_LOGO_URI,
      client_uri: `${site.url}/`,
      policy_uri: `${site.url}/privacy`,
    });
  }, 60_000);
  const app = useTestApp('browser-a11y', () => ({
    port,
    clients: () => [client],
    mail: true,
    // A domain name, so passkeys work (a WebAuthn relying party id cannot be an IP address).
    hostname: 'localhost',
    env: {
      ...upstream.env(),
      IDP_PRODUCT_NAME: 'Acme ID',
      IDP_LOGO_URL: BRAND_LOGO,
      IDP_PRIMARY_COLOR: '#0f766e',
      IDP_TERMS_URL: 'https://brand.example.test/terms',
      IDP_PRIVACY_URL: 'https://brand.example.test/privacy',
      // One account from this browser's address: the first test makes it, the limits test meets the limit.
      IDP_REGISTER_MAX_PER_IP: '1',
    },
    relyingParty: client,
  }));
  beforeAll(async () => {
    const context = await newContext(browser, { viewport: { width: 1024, height: 900 } });
    await routeRelyingPartyLogo(context);
    await context.route(BRAND_LOGO, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: BRAND_SVG }));
    page = await context.newPage();
    watchProblems(page, problems);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await upstream?.close();
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const summary = results.map(({ page: name, scheme, serious, other }) => ({
      page: name,
      scheme,
      seriousOrCritical: serious.map((violation) => violation.id),
      moderateOrMinor: other.map((violation) => `${violation.id} (${violation.impact ?? 'unknown'})`),
    }));
    writeFileSync(join(SCREENSHOT_DIR, '..', 'axe-results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  });

  /** axe in light and in dark mode, a screenshot of each; returns the serious/critical violations found. */
  async function check(name: string): Promise<PageResult[]> {
    const found: PageResult[] = [];
    // A page reached by a form post may be in the DOM before its stylesheets apply; sizes and
    // colours are only what a person sees once they have (a target-size finding came from that).
    await page.waitForLoadState('load');
    await page.evaluate('document.fonts.ready.then(() => undefined)');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      // Colours ease over 120 ms when the scheme changes: measure the settled page, not a blend.
      await page.evaluate(`Promise.race([
        Promise.all(document.getAnimations().map((animation) => animation.finished.catch(() => undefined))),
        new Promise((resolve) => setTimeout(resolve, 1000)),
      ])`);
      const all = await axeViolations(page);
      const isSerious = (violation: AxeViolation) => violation.impact === 'serious' || violation.impact === 'critical';
      found.push({ page: name, scheme, serious: all.filter(isSerious), other: all.filter((violation) => !isSerious(violation)) });
      await screenshot(page, `${name}-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    results.push(...found);
    return found.filter((result) => result.serious.length > 0);
  }

  async function heading(text: string): Promise<void> {
    await page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor({ timeout: 10_000 });
  }

  test('sign-in, registration and consent (with their error states)', async () => {
    await page.goto(app.server.url);
    expect(await check('home')).toEqual([]);

    const authorization = await app.rp.authorize({ redirect_uri: site.redirectUri });
    await page.goto(authorization.url.toString());
    await heading('Sign in');
    expect(await page.locator('.brand-logo').getAttribute('src')).toBe(BRAND_LOGO);
    expect(await page.locator('.footer-links a').allTextContents()).toEqual(['Terms of service', 'Privacy policy']);
    expect(await check('login')).toEqual([]);

    await page.getByLabel('Email or username').fill('nobody');
    await page.getByLabel('Password', { exact: true }).fill('a password that is wrong');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    expect(await check('login-error')).toEqual([]);

    await page.getByRole('link', { name: 'Create an account' }).click();
    await heading('Create your account');
    expect(await check('register')).toEqual([]);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('.error-summary').waitFor();
    expect(await check('register-errors')).toEqual([]);

    await page.getByLabel('Username').fill(account.username);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByLabel('Confirm password').fill(account.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await heading('Example App wants to access your account');
    expect(await check('consent')).toEqual([]);

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.toString().startsWith(site.redirectUri));
    await app.rp.exchange(authorization, new URL(page.url()));
  }, 90_000);

  test('email verification, the account page, sign-out', async () => {
    const link = linkIn(await app.smtp.waitFor(account.email, 5000, 'Verify your email address'), `${app.server.url}/verify-email`);
    await page.goto(link.toString());
    await heading('Verify your email address');
    expect(await check('verify-email')).toEqual([]);
    await page.getByRole('button', { name: 'Verify my email address' }).click();
    await heading('Email verified');
    expect(await check('email-verified')).toEqual([]);

    await page.goto(`${app.server.url}/account`);
    await heading('Your account');
    expect(await check('account')).toEqual([]);
    await page.locator('#currentPassword').fill('not my password at all');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('.error-summary').waitFor();
    expect(await check('account-errors')).toEqual([]);

    await page.goto(`${app.server.url}/logout`);
    await heading('Sign out');
    expect(await check('logout')).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('You have been signed out');
    expect(await check('logged-out')).toEqual([]);
  }, 90_000);

  test('signing in through an upstream provider: link an account, choose a username, an error', async () => {
    // The account of the first test has this email at the upstream too: linking it means signing in to it here.
    const person = await upstream.createPerson('a11y-up', { email: account.email });
    const authorization = await app.rp.authorize({ redirect_uri: site.redirectUri });
    await page.goto(authorization.url.toString());
    await heading('Sign in');
    await page.getByRole('button', { name: 'Continue with Upstream ID' }).click();
    await page.waitForURL((url) => url.origin === upstream.issuer);
    await page.getByLabel('Email or username').fill(person.username);
    await page.getByLabel('Password', { exact: true }).fill(person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await heading('Link your account');
    expect(await check('upstream-link')).toEqual([]);
    await page.getByLabel('Password', { exact: true }).fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in and link Upstream ID' }).click();
    await page.getByRole('alert').waitFor();
    expect(await check('upstream-link-error')).toEqual([]);
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByRole('button', { name: 'Sign in and link Upstream ID' }).click();
    await heading('Example App wants to access your account');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.toString().startsWith(site.redirectUri));
    const tokens = await app.rp.exchange(authorization, new URL(page.url()));
    expect(tokens.claims()).toMatchObject({ amr: ['fed', 'pwd'], idp: upstream.id });
    await page.goto(`${app.server.url}/account`);
    await heading('Your account');
    await page.getByRole('heading', { name: 'Linked sign-ins' }).waitFor();
    expect(await check('account-linked')).toEqual([]);

    // Someone new whose upstream username is taken here: the short page to choose another. The
    // registration limit of this app (one account) is spent, so sending it shows that state too.
    await page.context().clearCookies();
    const newcomer = await upstream.createPerson('a11y-new', { username: account.username });
    await page.goto((await app.rp.authorize({ redirect_uri: site.redirectUri })).url.toString());
    await page.getByRole('button', { name: 'Continue with Upstream ID' }).click();
    await page.waitForURL((url) => url.origin === upstream.issuer);
    await page.getByLabel('Email or username').fill(newcomer.username);
    await page.getByLabel('Password', { exact: true }).fill(newcomer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await heading('Choose your username');
    await page.locator('#username-error').waitFor();
    expect(await check('upstream-username')).toEqual([]);
    await page.getByLabel('Username').fill(`${account.username}-x`);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: 'Too many accounts were created from your network recently.' }).waitFor();
    expect(await check('upstream-username-limited')).toEqual([]);

    await page.goto(`${app.server.url}/upstream/${upstream.id}/callback?state=not-ours&code=x`);
    await heading('Sign-in with Upstream ID did not work');
    expect(await check('upstream-error')).toEqual([]);
  }, 90_000);

  test('errors, forgotten password and reset', async () => {
    await page.goto(`${app.server.url}/auth?client_id=no-such-app&response_type=code&scope=openid&redirect_uri=https://x.example/cb`);
    await heading('Sign-in could not continue');
    expect(await check('error')).toEqual([]);
    await page.goto(`${app.server.url}/no-such-page`);
    await heading('Page not found');
    expect(await check('not-found')).toEqual([]);

    await page.goto((await app.rp.authorize({ redirect_uri: site.redirectUri })).url.toString());
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await heading('Reset your password');
    expect(await check('forgot')).toEqual([]);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.locator('#email-error').waitFor();
    expect(await check('forgot-errors')).toEqual([]);
    await page.getByLabel('Email').fill(account.email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await heading('Check your email');
    expect(await check('forgot-sent')).toEqual([]);

    const link = linkIn(await app.smtp.waitFor(account.email, 5000, 'Reset your password'), `${app.server.url}/reset-password`);
    await page.goto(link.toString());
    await heading('Choose a new password');
    expect(await check('reset-password')).toEqual([]);
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase here');
    await page.getByLabel('Confirm new password').fill('something else entirely');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('#confirmPassword-error').waitFor();
    expect(await check('reset-password-errors')).toEqual([]);
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase here');
    await page.getByLabel('Confirm new password').fill('a brand new passphrase here');
    await page.getByRole('button', { name: 'Change password' }).click();
    await heading('Password changed');
    expect(await check('password-changed')).toEqual([]);
  }, 90_000);

  test('German pages and a phone-sized screen', async () => {
    await page.goto((await app.rp.authorize({ redirect_uri: site.redirectUri, ui_locales: 'de' })).url.toString());
    await heading('Anmelden');
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    expect(await check('login-de')).toEqual([]);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto((await app.rp.authorize({ redirect_uri: site.redirectUri })).url.toString());
    await heading('Sign in');
    // Nothing wider than the screen: no sideways scrolling on a phone (WCAG 1.4.10 reflow).
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(await check('login-phone')).toEqual([]);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await heading('Create your account');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(await check('register-phone')).toEqual([]);
  }, 90_000);

  test('the pages that say to wait or that refuse a request, in English and German', async () => {
    const another = newAccount('a11y-limit');
    for (const [locale, title, create, limited] of [
      ['en', 'Create your account', 'Create account', 'Too many accounts were created from your network recently.'],
      ['de', 'Konto erstellen', 'Konto erstellen', 'Aus Ihrem Netzwerk wurden in letzter Zeit zu viele Konten angelegt.'],
    ] as const) {
      await page.goto((await app.rp.authorize({ redirect_uri: site.redirectUri, ui_locales: locale })).url.toString());
      await page.locator('a[href$="/register"]').click();
      await heading(title);
      await page.locator('#username').fill(another.username);
      await page.locator('#email').fill(another.email);
      await page.locator('#password').fill(another.password);
      await page.locator('#confirmPassword').fill(another.password);
      await page.getByRole('button', { name: create }).click();
      await page.getByRole('alert').filter({ hasText: limited }).waitFor();
      // What was typed is kept, but for the passwords.
      expect(await page.locator('#username').inputValue()).toBe(another.username);
      expect(await check(`register-limited-${locale}`)).toEqual([]);
    }

    const tooLarge = await app.rp.authorize({ redirect_uri: site.redirectUri, state: 's'.repeat(5000) });
    await page.goto(tooLarge.url.toString());
    await heading('Sign-in could not continue');
    await page.getByText('The sign-in request from the application is too large to be accepted.').waitFor();
    expect(await check('request-too-large')).toEqual([]);

    // An app of its own (its own counters), that lets one address make one authorization request.
    const strictScope = isolation('browser-a11y-strict');
    const strict = await startTestApp({ backends: strictScope, clients: () => [client], env: { IDP_AUTH_MAX_PER_IP: '1' } });
    try {
      const strictRp = await RelyingParty.discover(strict.url, client);
      await page.goto((await strictRp.authorize({ redirect_uri: site.redirectUri })).url.toString());
      await heading('Sign in');
      await page.goto((await strictRp.authorize({ redirect_uri: site.redirectUri, ui_locales: 'de' })).url.toString());
      await heading('Die Anmeldung konnte nicht fortgesetzt werden');
      await page.getByText('Aus Ihrem Netzwerk kamen zu viele Anmeldeanfragen.').waitFor();
      expect(await check('too-many-requests-de')).toEqual([]);
    } finally {
      await strict.close();
      await dropIsolation(strictScope);
    }
  }, 90_000);

  test('a disabled app, and "check your email" with its resend button', async () => {
    await app.server.stores.clients.create({
      clientId: 'a11y-disabled',
      metadata: { client_name: 'Paused App', redirect_uris: [site.redirectUri], token_endpoint_auth_method: 'none' },
      sealedSecret: undefined,
      disabled: true,
    });
    await page.goto(`${app.server.url}/auth?client_id=a11y-disabled&response_type=code&scope=openid&redirect_uri=${site.redirectUri}`);
    await page.getByText('Paused App has been disabled by the administrator of this service').waitFor();
    expect(await check('error-client-disabled')).toEqual([]);

    const strict = await app.start({ clients: () => [client], env: { IDP_REQUIRE_VERIFIED_EMAIL: 'true', IDP_PRODUCT_NAME: 'Acme ID' } });
    const strictRp = await RelyingParty.discover(strict.url, client);
    const newcomer = newAccount('a11y-check');
    await page.goto((await strictRp.authorize({ redirect_uri: site.redirectUri })).url.toString());
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill(newcomer.username);
    await page.getByLabel('Email').fill(newcomer.email);
    await page.getByLabel('Password', { exact: true }).fill(newcomer.password);
    await page.getByLabel('Confirm password').fill(newcomer.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await heading('Check your email');
    expect(await check('check-email')).toEqual([]);
    await page.getByRole('button', { name: 'Send the link again' }).click();
    await page.getByRole('status').filter({ hasText: 'We sent a new link' }).waitFor();
    expect(await check('check-email-resent')).toEqual([]);
  }, 90_000);
  test('second factors and passkeys: set-up, recovery codes, the second step, the passkey offer, English and German', async () => {
    // A browser that can make passkeys (Chromium's virtual authenticator), so their buttons and the
    // offer are on the pages checked; the account is made by the server (this address has used up
    // its registrations above).
    const person = newAccount('a11y-mfa');
    await app.server.users.admin.create({ username: person.username, email: person.email, password: person.password, verified: true });
    const context = await newContext(browser, { viewport: { width: 1024, height: 900 } });
    await routeRelyingPartyLogo(context);
    await context.route(BRAND_LOGO, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: BRAND_SVG }));
    page = await context.newPage();
    watchProblems(page, problems);
    await addVirtualAuthenticator(context, page);
    const signIn = async (parameters: Record<string, string> = {}) => {
      const authorization = await app.rp.authorize({ redirect_uri: site.redirectUri, ...parameters });
      await page.goto(authorization.url.toString());
      await page.locator('#login').fill(person.username);
      await page.locator('#password').fill(person.password);
      await page.locator('form[action$="/login"] button[type=submit]').click();
      return authorization;
    };
    const toApp = async () => {
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((url) => url.toString().startsWith(site.redirectUri));
    };

    // An app that asks for level 2 leads a person without a factor to set one up.
    await signIn({ acr_values: '2' });
    await heading('Set up two-step verification');
    expect(await check('mfa-setup')).toEqual([]);
    const authenticator = new AuthenticatorApp(((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, ''));
    await page.locator('#code').fill('123');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#code-error').waitFor();
    expect(await check('mfa-setup-error')).toEqual([]);
    await page.locator('#code').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Turn on' }).click();
    await heading('Save your recovery codes');
    expect(await check('recovery-codes')).toEqual([]);
    const recoveryCode = (await page.locator('.recovery-codes code').first().textContent()) ?? '';
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await toApp();

    // The second step, with a wrong code, then a recovery code; then in German, and the offer of a passkey.
    await page.goto(`${app.server.url}/logout`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('You have been signed out');
    await signIn({ prompt: 'login consent' });
    await heading('Two-step verification');
    expect(await check('mfa')).toEqual([]);
    await page.locator('#code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('#code-error').waitFor();
    expect(await check('mfa-error')).toEqual([]);
    await page.getByText('Use a recovery code', { exact: true }).click();
    await page.locator('#recovery-code').fill(recoveryCode);
    await page.getByRole('button', { name: 'Use this code' }).click();
    await heading('Recovery code accepted');
    expect(await check('recovery-used')).toEqual([]);
    await page.getByRole('button', { name: 'Continue' }).click();
    await toApp();

    await page.context().clearCookies();
    await signIn({ ui_locales: 'de' });
    await heading('Bestätigung in zwei Schritten');
    expect(await check('mfa-de')).toEqual([]);
    await page.locator('#code').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await heading('Schneller anmelden mit einem Passkey');
    expect(await check('passkey-offer-de')).toEqual([]);
    await page.getByRole('button', { name: 'Jetzt nicht' }).click();
    await page.getByRole('button', { name: 'Erlauben' }).click();
    await page.waitForURL((url) => url.toString().startsWith(site.redirectUri));

    await page.goto(`${app.server.url}/account`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.locator('#passkey-name').fill('This laptop');
    await page.locator('form[action="/account/passkeys"] button').click();
    await page.locator('.passkeys li').filter({ hasText: 'This laptop' }).waitFor();
    expect(await check('account-second-factors')).toEqual([]);
  }, 120_000);

  test('every page was checked, and none broke its CSP or logged an error', () => {
    expect(results.length).toBeGreaterThanOrEqual(2 * 20);
    expect(problems).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { useTestApp } from '../support/app-fixture.ts';
import {
  focused,
  focusOutline,
  launchBrowser,
  newContext,
  type RelyingPartySite,
  RP_LOGO_URI,
  routeRelyingPartyLogo,
  startRelyingPartySite,
  watchProblems,
} from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { type NewAccount, newAccount, type RelyingParty, rpClient } from '../support/relying-party.ts';

/**
 * The sign-in pages in a real browser (Debian's chromium through playwright-core), with openid-client
 * as the relying party: it builds the authorization URL and exchanges the code the browser brings
 * back. Each test uses a fresh browser context (its own cookies).
 */
describe('sign-in pages in a real browser', () => {
  let site: RelyingPartySite;
  let client: ReturnType<typeof rpClient>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    [site, browser] = await Promise.all([startRelyingPartySite(), launchBrowser()]);
    client = rpClient({
      redirect_uris: [site.redirectUri],
      post_logout_redirect_uris: [site.postLogoutUri],
      logo_uri: RP_LOGO_URI,
      client_uri: `${site.url}/`,
    });
  }, 60_000);
  const app = useTestApp('browser-flows', () => ({ clients: () => [client], relyingParty: client }));
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  async function newPage(options: Parameters<typeof newContext>[1] = {}): Promise<Page> {
    const context = await newContext(browser, options);
    contexts.push(context);
    await routeRelyingPartyLogo(context);
    const page = await context.newPage();
    watchProblems(page, problems);
    return page;
  }

  /** Starts an authorization at the app and returns what the app needs to finish it. */
  async function startAt(page: Page, parameters: Record<string, string> = {}) {
    const authorization = await app.rp.authorize({ redirect_uri: site.redirectUri, ...parameters });
    await page.goto(authorization.url.toString());
    return authorization;
  }

  async function register(page: Page, account: NewAccount) {
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill(account.username);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByLabel('Confirm password').fill(account.password);
    await page.getByRole('button', { name: 'Create account' }).click();
  }

  async function signIn(page: Page, login: string, password: string, remember = false) {
    await page.getByLabel('Email or username').fill(login);
    await page.getByLabel('Password', { exact: true }).fill(password);
    if (remember) await page.getByLabel('Remember me').check();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  async function heading(page: Page, text: string): Promise<void> {
    await page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
  }

  /** Who the tokens are for, as the app learns it: from userinfo, with the access token. */
  async function usernameIn(tokens: Awaited<ReturnType<RelyingParty['exchange']>>): Promise<unknown> {
    const sub = tokens.claims()?.sub ?? '';
    return (await app.rp.userinfo(tokens.access_token, sub)).preferred_username;
  }

  async function backAtApp(page: Page): Promise<URL> {
    await page.waitForURL((url) => url.toString().startsWith(site.redirectUri));
    return new URL(page.url());
  }

  /** An account that exists, made through the pages like anyone would. */
  async function registered(): Promise<NewAccount> {
    const account = newAccount('browser');
    const page = await newPage();
    const authorization = await startAt(page);
    await register(page, account);
    await page.getByRole('button', { name: 'Allow' }).click();
    await app.rp.exchange(authorization, await backAtApp(page));
    await page.context().close();
    return account;
  }

  test('registration, consent with the app named and its scopes in plain words, then back at the app with tokens', async () => {
    const account = newAccount('browser');
    const page = await newPage();
    const authorization = await startAt(page);
    await heading(page, 'Sign in');
    await register(page, account);

    await heading(page, 'Example App wants to access your account');
    expect(await page.locator('.flash--success').textContent()).toBe(`Account created. Welcome, ${account.username}!`);
    expect(await page.locator('img.client-logo').getAttribute('src')).toBe(RP_LOGO_URI);
    expect(await page.evaluate("document.querySelector('img.client-logo').naturalWidth")).toBeGreaterThan(0); // it loaded
    expect(await page.locator('.client-home a').first().getAttribute('href')).toBe(`${site.url}/`);
    expect(await page.locator('ul.scopes li').allTextContents()).toEqual([
      'Confirm who you are when you sign in',
      'See your name and username',
      'See your email address and whether it is verified',
      'Stay connected while you are not using it',
    ]);
    await page.getByRole('button', { name: 'Allow' }).click();

    const callback = await backAtApp(page);
    expect(callback.searchParams.get('code')).toBeTruthy();
    const tokens = await app.rp.exchange(authorization, callback);
    expect(await usernameIn(tokens)).toBe(account.username);
    expect(tokens.refresh_token).toBeTruthy();
  }, 60_000);

  test('field errors stay next to their fields, are linked to them, and are summarised at the top', async () => {
    const page = await newPage();
    await startAt(page);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill('ok.name');
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.waitForSelector('.error-summary');
    const email = page.locator('#email');
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await email.getAttribute('aria-describedby')).toBe('email-error');
    expect(await page.locator('#email-error').textContent()).toBe('Enter a valid email address, like name@example.com.');
    expect(await page.locator('#password').getAttribute('aria-describedby')).toBe('password-error password-hint');
    expect(await page.locator('#password-error').textContent()).toBe(
      'Use at least 15 characters. A few unrelated words make a strong, memorable password.',
    );
    // The error is in the same field block as its input, right below it.
    expect(await page.locator('.field:has(#email) .field-error').textContent()).toBe('Enter a valid email address, like name@example.com.');
    expect(await page.locator('#username').getAttribute('aria-invalid')).toBeNull();
    expect(await email.inputValue()).toBe('not-an-email'); // kept, except passwords
    expect(await page.locator('#password').inputValue()).toBe('');

    // The summary takes focus (read out first: the page's script moves it there once the document is
    // parsed, which a busy machine may finish after the summary is already shown); its links move
    // focus to the field to fix.
    await page.waitForFunction("document.activeElement?.classList.contains('error-summary')", undefined, { timeout: 10_000 });
    expect(await page.evaluate("[...document.querySelectorAll('.error-summary a')].map((a) => a.getAttribute('href'))")).toEqual([
      '#email',
      '#password',
    ]);
    await page.locator('.error-summary a[href="#email"]').click();
    expect(await focused(page)).toBe('#email');
  }, 60_000);

  test('a wrong password answers with the generic message, keeps the login, and signs nobody in', async () => {
    const account = await registered();
    const page = await newPage();
    await startAt(page);
    await signIn(page, account.username, 'not the right password at all');
    expect(await page.getByRole('alert').textContent()).toBe('Invalid email/username or password.');
    expect(await page.getByLabel('Email or username').inputValue()).toBe(account.username);
    expect(page.url()).toContain('/interaction/');
    expect((await page.context().cookies()).some((cookie) => cookie.name === '_session')).toBe(false);
  }, 60_000);

  test('sign-in without "Remember me" leaves a browser-session cookie; with it, a lasting one', async () => {
    const account = await registered();
    for (const remember of [false, true]) {
      const page = await newPage();
      const authorization = await startAt(page);
      await signIn(page, account.email, account.password, remember);
      await page.getByRole('button', { name: 'Allow' }).click();
      await app.rp.exchange(authorization, await backAtApp(page));
      const session = (await page.context().cookies()).find((cookie) => cookie.name === '_session');
      if (!session) throw new Error('no session cookie after sign-in');
      if (remember) expect(session.expires - Date.now() / 1000).toBeGreaterThan(app.server.config.ttl.sessionIdle - 60);
      else expect(session.expires).toBe(-1); // no Expires: ends with the browser
    }
  }, 60_000);

  test('deny on consent sends the person back to the app with access_denied', async () => {
    const account = await registered();
    const page = await newPage();
    await startAt(page);
    await signIn(page, account.username, account.password);
    await page.getByRole('button', { name: 'Deny' }).click();
    const callback = await backAtApp(page);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('code')).toBeNull();
  }, 60_000);

  test('logout: a person confirms on our page; an app with a verified id_token_hint signs out without a click', async () => {
    const account = await registered();
    const page = await newPage();
    const authorization = await startAt(page);
    await signIn(page, account.username, account.password);
    await page.getByRole('button', { name: 'Allow' }).click();
    const tokens = await app.rp.exchange(authorization, await backAtApp(page));

    // RP-initiated, verified hint: assets/logout.js confirms, the browser lands at the app.
    const endSession = oidc.buildEndSessionUrl(app.rp.config, {
      id_token_hint: tokens.id_token ?? '',
      post_logout_redirect_uri: site.postLogoutUri,
      state: 'bye',
    });
    await page.goto(endSession.toString());
    await page.waitForURL((url) => url.toString().startsWith(site.postLogoutUri));
    expect(new URL(page.url()).searchParams.get('state')).toBe('bye');
    expect((await page.context().cookies()).some((cookie) => cookie.name === '_session')).toBe(false);

    // A plain /logout link: a confirmation page, then the signed-out page.
    const again = await startAt(page);
    await signIn(page, account.username, account.password);
    await page.getByRole('button', { name: 'Allow' }).click();
    await app.rp.exchange(again, await backAtApp(page));
    await page.goto(`${app.server.url}/logout`);
    expect(await page.locator('h1').textContent()).toBe('Sign out');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'You have been signed out');
    expect((await page.context().cookies()).some((cookie) => cookie.name === '_session')).toBe(false);
  }, 60_000);

  test("a sign-out request carrying someone else's ID token asks first, says why, and staying keeps the session", async () => {
    const victim = await registered();
    const page = await newPage();
    await startAt(page);
    await signIn(page, victim.username, victim.password);
    await page.getByRole('button', { name: 'Allow' }).click();
    await backAtApp(page);
    // Another person's ID token, valid and signed by this server: all a forced-logout attempt needs.
    const other = await registered();
    const otherPage = await newPage();
    const otherAuthorization = await startAt(otherPage);
    await signIn(otherPage, other.username, other.password);
    await otherPage.getByRole('button', { name: 'Allow' }).click();
    const otherTokens = await app.rp.exchange(otherAuthorization, await backAtApp(otherPage));

    for (const [locale, title, because, stay] of [
      ['en', 'Sign out', 'The sign-out request does not come from your current sign-in, so we ask first.', 'Stay signed in'],
      ['de', 'Abmelden', 'Die Abmeldeanfrage stammt nicht von Ihrer aktuellen Anmeldung, deshalb fragen wir zuerst.', 'Angemeldet bleiben'],
    ] as const) {
      const endSession = oidc.buildEndSessionUrl(app.rp.config, { id_token_hint: otherTokens.id_token ?? '', ui_locales: locale });
      await page.goto(endSession.toString());
      await heading(page, title);
      expect(await page.locator('p.hint').textContent()).toContain(because);
      // The script that confirms on the person's behalf is not even on the page.
      expect(await page.locator('script[src="/assets/logout.js"]').count()).toBe(0);
      await page.getByRole('button', { name: stay }).click();
      await page.waitForLoadState('load');
    }
    // Still signed in: the next authorization asks for consent (the app asks every time), not for a password.
    const again = await startAt(page);
    await heading(page, 'Example App wants to access your account');
    await page.getByRole('button', { name: 'Allow' }).click();
    const tokens = await app.rp.exchange(again, await backAtApp(page));
    expect(await usernameIn(tokens)).toBe(victim.username);
  }, 60_000);

  test('keyboard only: a skip link, a logical focus order with a visible focus, and a whole sign-in without a mouse', async () => {
    const account = await registered();
    const page = await newPage();
    const authorization = await startAt(page);
    // Autofocus on the first field (the browser applies it as it renders, after the page has loaded).
    expect(
      await eventually(
        () => focused(page),
        (field) => field === '#login',
        10_000,
      ),
    ).toBe('#login');

    // The order Tab walks through: forwards from the first field, and backwards to the top.
    const walk = async (key: string, steps: number) => {
      const order: string[] = [];
      for (let step = 0; step < steps; step += 1) {
        await page.keyboard.press(key);
        order.push(await focused(page));
        const outline = await focusOutline(page);
        expect(outline.style).not.toBe('none');
        expect(Number.parseFloat(outline.width)).toBeGreaterThanOrEqual(2);
      }
      return order;
    };
    // No passkey button: this issuer is an IP address, which cannot be a WebAuthn relying party id.
    expect(await walk('Tab', 7)).toEqual([
      '#password',
      'button:Show password',
      'a:Forgot password?',
      '#remember',
      'button:Sign in',
      'a:Create an account',
      'button:Cancel and go back to Example App',
    ]);
    await page.locator('#login').focus();
    expect(await walk('Shift+Tab', 2)).toEqual(['a:Identity', 'a:Skip to content']);

    // The skip link moves focus to the main content; the next Tab is its first field.
    await page.keyboard.press('Enter');
    expect(await focused(page)).toBe('#main');

    // Sign in with the keyboard alone: type, Tab, Space on the toggle, Enter.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('#login');
    await page.keyboard.type(account.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(account.password);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space'); // show password
    expect(await page.locator('#password').getAttribute('type')).toBe('text');
    expect(await page.locator('.password-toggle').getAttribute('aria-pressed')).toBe('true');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await heading(page, 'Example App wants to access your account');
    let steps = 0;
    while ((await focused(page)) !== 'button:Allow' && steps < 20) {
      await page.keyboard.press('Tab');
      steps += 1;
    }
    expect(await focused(page)).toBe('button:Allow');
    await page.keyboard.press('Enter');
    const tokens = await app.rp.exchange(authorization, await backAtApp(page));
    expect(await usernameIn(tokens)).toBe(account.username);
  }, 60_000);

  test('without JavaScript: sign-in, consent and a verified sign-out still work, by plain forms', async () => {
    const account = await registered();
    const page = await newPage({ javaScriptEnabled: false });
    const authorization = await startAt(page);
    expect(await page.locator('.password-toggle').count()).toBe(0); // forms.js never ran
    await signIn(page, account.username, account.password, true);
    await page.getByRole('button', { name: 'Allow' }).click();
    const tokens = await app.rp.exchange(authorization, await backAtApp(page));

    // With a verified hint the page would confirm itself by script; without it, one click does.
    const endSession = oidc.buildEndSessionUrl(app.rp.config, {
      id_token_hint: tokens.id_token ?? '',
      post_logout_redirect_uri: site.postLogoutUri,
    });
    await page.goto(endSession.toString());
    await heading(page, 'Sign out');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.toString().startsWith(site.postLogoutUri));
    expect((await page.context().cookies()).some((cookie) => cookie.name === '_session')).toBe(false);
  }, 60_000);

  test('a second language: German from ui_locales or from the browser, and html lang says so', async () => {
    const german = await newPage(); // an English browser; the app asks for German
    await startAt(german, { ui_locales: 'de-CH en' });
    expect(await german.locator('html').getAttribute('lang')).toBe('de');
    expect(await german.locator('h1').textContent()).toBe('Anmelden');
    expect(await german.getByRole('button', { name: 'Anmelden', exact: true }).count()).toBe(1);
    await german.getByLabel('E-Mail-Adresse oder Benutzername').fill('nobody');
    await german.getByLabel('Passwort', { exact: true }).fill('certainly not a real password');
    await german.getByRole('button', { name: 'Anmelden', exact: true }).click();
    expect(await german.getByRole('alert').textContent()).toBe('E-Mail-Adresse/Benutzername oder Passwort ist falsch.');
    expect(await german.locator('html').getAttribute('lang')).toBe('de');

    const browserGerman = await newPage({ locale: 'de-DE' }); // Accept-Language: de-DE
    await startAt(browserGerman);
    expect(await browserGerman.locator('html').getAttribute('lang')).toBe('de');
    await browserGerman.getByRole('link', { name: 'Konto erstellen' }).click();
    await browserGerman.getByRole('button', { name: 'Konto erstellen' }).click();
    expect(await browserGerman.locator('#username-error').textContent()).toBe('Geben Sie einen Benutzernamen ein.');
    expect((await browserGerman.locator('.error-summary').textContent())?.replace(/\s+/g, ' ').trim()).toBe(
      'Bitte korrigieren Sie diese Felder: Benutzername, E-Mail-Adresse, Passwort',
    );

    const askedEnglish = await newPage({ locale: 'de-DE' }); // ui_locales wins over the browser
    await startAt(askedEnglish, { ui_locales: 'en' });
    expect(await askedEnglish.locator('html').getAttribute('lang')).toBe('en');
    expect(await askedEnglish.locator('h1').textContent()).toBe('Sign in');
  }, 60_000);

  test('no page broke its CSP or logged an error in the browser', async () => {
    await Promise.all(contexts.map((context) => context.close().catch(() => undefined)));
    expect(problems).toEqual([]);
  }, 60_000);
});

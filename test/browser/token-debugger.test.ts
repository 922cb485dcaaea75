import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, launchBrowser, newContext, watchProblems } from '../support/browser.ts';
import { type RunningApp, startTestApp } from '../support/test-app.ts';

/**
 * The embedded mode's demo app as a token debugger, in a real browser: sign in with the printed
 * authorization URL, exchange the code on the page, see the decoded claims, refresh, ask userinfo
 * again, copy the curl line, log out. No console error (a CSP violation would be one) and no
 * serious axe violation on its pages.
 */
describe('the token debugger in a real browser', () => {
  let browser: Browser;
  let app: RunningApp;
  const problems: string[] = [];

  beforeAll(async () => {
    [browser, app] = await Promise.all([launchBrowser(), startTestApp({ demo: true })]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const serious = async (page: Page) =>
    (await axeViolations(page)).filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');

  test('sign in, exchange, see the claims, refresh, userinfo again, copy the curl line, log out', async () => {
    const demo = app.demo;
    if (!demo?.user) throw new Error('the test app has no demo');
    const context = await newContext(browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
    const page = await context.newPage();
    watchProblems(page, problems);

    await page.goto(`${app.url}/demo`);
    await page.getByRole('link', { name: 'Sign in with the demo application' }).click();
    await page.getByLabel('Email or username').fill(demo.user.username);
    await page.getByLabel('Password', { exact: true }).fill(demo.user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();

    // The callback: the code, the curl line (one argument per line, nothing broken mid-token) and its copy button.
    await page.getByRole('button', { name: 'Exchange the code for tokens' }).waitFor();
    const code = new URL(page.url()).searchParams.get('code') ?? 'missing';
    const curl = page.locator('pre#curl');
    expect(await curl.textContent()).toContain(`code=${code}`);
    expect(await page.evaluate("getComputedStyle(document.getElementById('curl')).whiteSpace")).toBe('pre');
    expect(await serious(page)).toEqual([]);
    await page.locator('button[data-copy="curl"]').click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(await curl.textContent());

    await page.getByRole('button', { name: 'Exchange the code for tokens' }).click();
    await page.getByRole('heading', { level: 1, name: 'What the demo application received' }).waitFor();
    const claims = JSON.parse((await page.locator('pre#id-token-claims').textContent()) ?? '{}') as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: app.url, aud: demo.client.client_id, preferred_username: 'demo', email: demo.user.email });
    expect(JSON.parse((await page.locator('pre#id-token-header').textContent()) ?? '{}')).toMatchObject({ alg: 'RS256' });
    await expect(
      page
        .getByText(/^Expires in (59|60) minutes \(/)
        .first()
        .waitFor(),
    ).resolves.toBeUndefined();
    await page.getByText('Signature valid: checked against the keys at /jwks').waitFor();
    expect(JSON.parse((await page.locator('pre#userinfo').textContent()) ?? '{}')).toMatchObject({
      sub: claims.sub,
      email: demo.user.email,
    });
    const firstAccessToken = await page.locator('pre#access-token').textContent();
    expect(await serious(page)).toEqual([]);

    await page.getByRole('button', { name: 'Refresh the tokens' }).click();
    await page.getByText('Tokens refreshed.').waitFor();
    expect(await page.locator('pre#access-token').textContent()).not.toBe(firstAccessToken);

    await page.getByRole('button', { name: 'Ask userinfo again' }).click();
    await page.getByRole('heading', { level: 1, name: 'What the demo application received' }).waitFor();
    expect(JSON.parse((await page.locator('pre#userinfo').textContent()) ?? '{}')).toMatchObject({ sub: claims.sub });

    // RP-initiated logout with the ID token as hint: the sign-out page confirms by itself and comes back.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You signed out: the demo application forgot its tokens').waitFor();
    expect(new URL(page.url()).pathname).toBe('/demo');
    await page.goto(`${app.url}/demo/tokens`);
    expect(new URL(page.url()).pathname).toBe('/demo');
    // The session ended too: signing in again asks for the password.
    await page.getByRole('link', { name: 'Sign in with the demo application' }).click();
    await page.getByLabel('Email or username').waitFor();

    expect(problems).toEqual([]);
    await context.close();
  });

  test('a code used twice is refused on the page in plain words, with a way to sign in again', async () => {
    const demo = app.demo;
    if (!demo?.user) throw new Error('the test app has no demo');
    const context = await newContext(browser);
    const page = await context.newPage();
    watchProblems(page, problems);
    await page.goto(demo.authorizationUrl);
    await page.getByLabel('Email or username').fill(demo.user.username);
    await page.getByLabel('Password', { exact: true }).fill(demo.user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByRole('button', { name: 'Exchange the code for tokens' }).click();
    await page.getByRole('heading', { level: 1, name: 'What the demo application received' }).waitFor();
    await page.goBack();
    await page.getByRole('button', { name: 'Exchange the code for tokens' }).click();
    await page.getByText(/^The code could not be exchanged \(invalid_grant: /).waitFor();
    await page.getByRole('link', { name: 'Sign in again' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});

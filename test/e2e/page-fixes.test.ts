import { beforeAll, describe, expect, test } from '@jest/globals';
import { useTestApp } from '../support/app-fixture.ts';
import {
  newAccount,
  openAuthorization,
  RelyingParty,
  RP_REDIRECT_URI,
  registerAndConsent,
  registerFrom,
  rpClient,
  signInFrom,
} from '../support/relying-party.ts';
import { linkIn } from '../support/smtp.ts';
import type { RunningApp } from '../support/test-app.ts';
import { expectPage, expectRedirect, type Page, UserAgent } from '../support/user-agent.ts';

/** What a walk through the pages found: no dead ends, every error at once, plain words, an acr after registration. */
describe('the pages people walk through', () => {
  const client = rpClient();
  const app = useTestApp('page-fixes', { clients: () => [client], relyingParty: client, mail: true });
  let strict: RunningApp;
  let strictRp: RelyingParty;
  beforeAll(async () => {
    strict = await app.start({ clients: () => [client], env: { IDP_REQUIRE_VERIFIED_EMAIL: 'true' } });
    strictRp = await RelyingParty.discover(strict.url, client);
  });
  const links = (page: Page) =>
    page
      .$('main a')
      .map((_index, element) => ({ text: page.$(element).text().trim(), href: page.$(element).attr('href') }))
      .get();

  test('the ID token after a registration carries acr and amr, as after a sign-in', async () => {
    const authorization = await app.rp.authorize();
    const tokens = await app.rp.exchange(authorization, await registerAndConsent(new UserAgent(), authorization, newAccount('acr')));
    expect(tokens.claims()).toMatchObject({ acr: '1', amr: ['pwd'] });
  });

  test('registration reports every error in one pass: taken, format, policy and confirmation, with a light summary', async () => {
    const taken = newAccount('taken');
    await app.server.users.admin.create(taken);
    const agent = new UserAgent();
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    const form = expectPage(await agent.get(new URL(loginPage.$('a[href$="/register"]').attr('href') ?? '', loginPage.url)));
    const page = expectPage(
      await agent.submit(form, 'form[action$="/register"]', {
        username: taken.username,
        email: `free-${taken.email}`,
        password: 'short',
        confirmPassword: 'different',
      }),
    );
    expect(page.status).toBe(400);
    expect({
      username: page.$('#username-error').text(),
      email: page.$('#email-error').text(),
      password: page.$('#password-error').text(),
      confirmPassword: page.$('#confirmPassword-error').text(),
    }).toEqual({
      username: 'This username is already taken. Choose another one.',
      email: '',
      password: 'Use at least 15 characters. A few unrelated words make a strong, memorable password.',
      confirmPassword: 'The two passwords do not match.',
    });
    // One light line naming the fields, each a link; the messages are beside the fields only.
    const summary = page.$('.error-summary--light');
    expect(summary.attr('role')).toBe('alert');
    expect(summary.text().replace(/\s+/g, ' ').trim()).toBe('Please correct these fields: Username, Password, Confirm password');
    expect(
      summary
        .find('a')
        .map((_index, link) => page.$(link).attr('href'))
        .get(),
    ).toEqual(['#username', '#password', '#confirmPassword']);

    // A taken email is named in the same pass as a bad username.
    const again = expectPage(
      await agent.submit(page, 'form[action$="/register"]', { username: 'x', email: taken.email, password: '', confirmPassword: '' }),
    );
    expect(again.$('#email-error').text()).toBe('This email is already registered. Sign in instead, or use another email.');
    expect(again.$('#username-error').text()).toContain('Use 3 to 32 characters');
  });

  test('"check your email" sends the link again and leads back to the sign-in, where the verified person signs in', async () => {
    const account = newAccount('check');
    const agent = new UserAgent();
    const authorization = await strictRp.authorize();
    const checkPage = expectPage(await registerFrom(agent, await openAuthorization(agent, authorization), account));
    expect(checkPage.$('h1').text()).toBe('Check your email');
    const first = await app.smtp.waitFor(account.email);
    const resent = expectPage(await agent.submit(checkPage, 'form[action$="/resend"]'));
    expect(resent.$('[role=status]').text()).toBe(`We sent a new link to ${account.email}.`);
    const second = await app.smtp.waitFor(account.email);
    expect(linkIn(second, `${strict.url}/verify-email`).toString()).not.toBe(linkIn(first, `${strict.url}/verify-email`).toString());
    const back = links(resent).find((link) => link.text === 'Back to sign in');
    expect(back?.href).toBe(new URL(checkPage.url).pathname.replace(/\/register$/, ''));

    // The link leads back to that sign-in, which then lets the person in.
    const verifyPage = expectPage(await agent.get(linkIn(second, `${strict.url}/verify-email`)));
    const verified = expectPage(await agent.submit(verifyPage, 'form[action="/verify-email"]'));
    expect(verified.$('h1').text()).toBe('Email verified');
    expect(links(verified)).toEqual([
      { text: 'Continue signing in', href: back?.href },
      { text: 'Go to your account', href: '/account' },
    ]);
    const loginPage = expectPage(await agent.get(new URL(back?.href ?? '', strict.url)));
    const consent = expectPage(await signInFrom(agent, loginPage, account.username, account.password));
    expect(consent.$('form[action$="/confirm"]')).toHaveLength(1);
  });

  test('"reset link sent" leads back to the sign-in it came from', async () => {
    const agent = new UserAgent();
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    const forgot = expectPage(await agent.get(new URL(loginPage.$('a[href$="/forgot"]').attr('href') ?? '', loginPage.url)));
    const sent = expectPage(await agent.submit(forgot, 'form[action$="/forgot"]', { email: 'nobody@example.com' }));
    expect(sent.$('h1').text()).toBe('Check your email');
    expect(links(sent)).toEqual([{ text: 'Back to sign in', href: new URL(loginPage.url).pathname }]);
  });

  test('"signed out" leads back to the app and offers to sign in again', async () => {
    const account = newAccount('bye');
    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    const tokens = await app.rp.exchange(authorization, await registerAndConsent(agent, authorization, account));
    const end = new URL('/session/end', app.server.url);
    end.searchParams.set('id_token_hint', tokens.id_token ?? '');
    const confirm = expectPage(await agent.get(end));
    const done = expectPage(await agent.submit(confirm, 'form#op\\.logoutForm', { logout: 'yes' }));
    expect(done.$('h1').text()).toBe('You have been signed out');
    expect(links(done)).toEqual([
      { text: 'Return to Example App', href: new URL(RP_REDIRECT_URI).origin },
      { text: 'Sign in to your account', href: '/account' },
    ]);
  });

  test("a disabled app's people are told it is disabled, not that it is unknown", async () => {
    await app.server.stores.clients.create({
      clientId: 'switched-off',
      metadata: { client_name: 'Switched Off', redirect_uris: [RP_REDIRECT_URI], token_endpoint_auth_method: 'none' },
      sealedSecret: undefined,
      disabled: true,
    });
    const url = new URL('/auth', app.server.url);
    url.search = new URLSearchParams({
      client_id: 'switched-off',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: RP_REDIRECT_URI,
    }).toString();
    const page = expectPage(await new UserAgent().get(url));
    expect(page.status).toBe(400);
    expect(page.$('main p').first().text()).toBe(
      'Switched Off has been disabled by the administrator of this service, so you cannot sign in to it for now.',
    );
    url.searchParams.set('client_id', 'never-registered');
    expect(
      expectPage(await new UserAgent().get(url))
        .$('main p')
        .first()
        .text(),
    ).toBe('The application that sent you here is not registered with this sign-in service.');
  });

  test('deny and cancel reach the app as access_denied that says which happened', async () => {
    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    const consent = expectPage(await registerFrom(agent, await openAuthorization(agent, authorization), newAccount('denier')));
    const denied = expectRedirect(await agent.submit(consent, 'form[action$="/abort"]', {}, RP_REDIRECT_URI));
    expect(Object.fromEntries(denied.searchParams)).toMatchObject({
      error: 'access_denied',
      error_description: 'the user denied the app access on the consent page',
    });
    const other = new UserAgent();
    const loginPage = await openAuthorization(other, await app.rp.authorize());
    const cancelled = expectRedirect(await other.submit(loginPage, 'form[action$="/abort"]', {}, RP_REDIRECT_URI));
    expect(cancelled.searchParams.get('error_description')).toBe('the user cancelled the sign-in');
  });

  test('/favicon.ico is served: an icon in the brand colour, or the brand logo when one is set', async () => {
    const icon = await fetch(`${app.server.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(await icon.text()).toContain(`fill="${app.server.config.branding.primaryColor}"`);
    const branded = await app.start({ env: { IDP_LOGO_URL: '/assets/logo.svg' } });
    const redirected = await fetch(`${branded.url}/favicon.ico`, { redirect: 'manual' });
    expect({ status: redirected.status, location: redirected.headers.get('location') }).toEqual({
      status: 302,
      location: '/assets/logo.svg',
    });
    const page = expectPage(await new UserAgent().get(`${branded.url}/`));
    expect(page.$('link[rel=icon]').attr('href')).toBe('/assets/logo.svg');
  });

  test('the account page sends the verification link again', async () => {
    const account = newAccount('again');
    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    await registerAndConsent(agent, authorization, account);
    await app.smtp.waitFor(account.email);
    const accountPage = expectPage(await agent.get(`${app.server.url}/account`));
    const after = expectPage(await agent.submit(accountPage, 'form[action="/account/verify-email"]'));
    expect(after.$('.flash').text()).toBe(`We sent a new link to ${account.email}.`);
    expect((await app.smtp.waitFor(account.email)).subject).toBe('Verify your email address');
  });
});

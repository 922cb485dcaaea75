import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { freePort } from '../../scripts/lib/local-services.ts';
import { useTestApp } from '../support/app-fixture.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { type GitHubLikeUpstream, type GitHubLikeUser, startGitHubLikeUpstream } from '../support/github-like-upstream.ts';
import {
  allowConsent,
  newAccount,
  openAuthorization,
  RelyingParty,
  RP_REDIRECT_URI,
  registerAndConsent,
  rpClient,
  signInFrom,
} from '../support/relying-party.ts';
import { dateBackSignIn, isSecondStepPage, isSetupPage, setUpTotp, submitRecoveryCode, submitTotp } from '../support/second-factors.ts';
import { continueWith, startUpstreamIdp, throughUpstream, type UpstreamIdp, type UpstreamPerson } from '../support/upstream-idp.ts';
import { expectPage, expectRedirect, type Page, UserAgent } from '../support/user-agent.ts';

/**
 * Signing in through other identity providers, end to end: the upstream is a second instance of
 * this provider (a real OpenID provider on 127.0.0.2 with its own users), plus a small GitHub-shaped
 * OAuth 2.0 provider; openid-client is the app; Redis and MongoDB are real.
 */
describe('sign-in through an upstream identity provider', () => {
  const client = rpClient();
  const logLines: string[] = [];
  let port: number;
  let upstream: UpstreamIdp;
  let github: GitHubLikeUpstream;
  beforeAll(async () => {
    port = await freePort();
    [upstream, github] = await Promise.all([startUpstreamIdp({ downstreamPort: port }), startGitHubLikeUpstream()]);
    github.register(`http://127.0.0.1:${port}/upstream/github-like/callback`);
  });
  /** Both upstreams, their secrets, and the outbound allowance for their loopback addresses. */
  const upstreamEnv = () => {
    const oidcEnv = upstream.env();
    const githubEnv = github.env('github-like');
    return {
      ...oidcEnv,
      ...githubEnv,
      IDP_UPSTREAMS: JSON.stringify([upstream.entry(), github.entry('github-like')]),
      IDP_OUTBOUND_PRIVATE_HOSTS: `${oidcEnv.IDP_OUTBOUND_PRIVATE_HOSTS},${githubEnv.IDP_OUTBOUND_PRIVATE_HOSTS}`,
    };
  };
  const app = useTestApp('e2e-upstream', () => ({ port, clients: () => [client], relyingParty: client, logLines, env: upstreamEnv() }));
  afterAll(async () => {
    await upstream?.close();
    await github?.close();
  });

  const events = (name: string) =>
    logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.event === name);

  /** From a fresh authorization: "Continue with" the upstream, through its pages, back to ours. */
  async function signInThroughUpstream(agent: UserAgent, person: UpstreamPerson) {
    const authorization = await app.rp.authorize();
    const loginPage = await openAuthorization(agent, authorization);
    const left = await continueWith(agent, loginPage, upstream.id, RP_REDIRECT_URI);
    const back = await throughUpstream(agent, left, upstream, { login: person.username, password: person.password }, RP_REDIRECT_URI);
    return { authorization, page: expectPage(back) };
  }

  const isConsent = (page: Page) => page.$('form[action$="/confirm"]').length > 0;

  async function tokensAfterConsent(agent: UserAgent, authorization: Awaited<ReturnType<typeof app.rp.authorize>>, page: Page) {
    expect(isConsent(page)).toBe(true);
    const tokens = await app.rp.exchange(authorization, await allowConsent(agent, page));
    const claims = tokens.claims();
    if (!claims) throw new Error('no ID token');
    return { tokens, claims };
  }

  test('the sign-in and registration pages offer "Continue with" each upstream', async () => {
    const agent = new UserAgent();
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    const buttons = loginPage.$('form[action$="/upstream"] button[name=upstream]');
    // The badge of a provider without an icon is aria-hidden: each button's name is its text.
    expect(buttons.map((_, button) => loginPage.$(button).find('span:not([aria-hidden])').text().trim()).get()).toEqual([
      'Continue with Upstream ID',
      'Continue with GitHub-like',
    ]);
    const register = expectPage(await agent.get(new URL(loginPage.$('a[href$="/register"]').attr('href') ?? '', loginPage.url)));
    expect(register.$('form[action$="/upstream"] button[name=upstream]')).toHaveLength(2);
    const german = await openAuthorization(new UserAgent(), await app.rp.authorize({ ui_locales: 'de' }));
    expect(german.$('button[name=upstream] span:not([aria-hidden])').first().text()).toBe('Weiter mit Upstream ID');
  });

  test('the first sign-in makes an account (ours: our sub and claims, amr fed, idp); the second finds it', async () => {
    const person = await upstream.createPerson('first');
    const agent = new UserAgent();
    const first = await signInThroughUpstream(agent, person);
    const { tokens, claims } = await tokensAfterConsent(agent, first.authorization, first.page);

    expect(claims.iss).toBe(app.server.url);
    expect(claims.amr).toEqual(['fed']);
    expect(claims.idp).toBe(upstream.id);
    expect(claims.sub).not.toBe(person.id);
    const user = await app.server.stores.users.findById(claims.sub);
    expect(user).toMatchObject({ username: person.username, email: person.email, emailVerified: true, active: true });
    expect(user?.passwordHash).toBeUndefined();
    expect(await app.server.stores.users.linksOf(claims.sub)).toEqual([
      expect.objectContaining({ issuer: upstream.issuer, subject: person.id, upstream: upstream.id, label: person.email }),
    ]);
    // Our claims only: nothing of the upstream's tokens or its subject.
    const userinfo = await app.rp.userinfo(tokens.access_token, claims.sub);
    expect(userinfo).toEqual({
      sub: claims.sub,
      preferred_username: person.username,
      updated_at: expect.any(Number),
      email: person.email,
      email_verified: true,
    });
    expect(Object.keys(tokens).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);
    // A refresh carries the same sign-in: amr and idp again.
    const refreshed = await app.rp.refresh(tokens.refresh_token ?? '');
    expect(refreshed.claims()).toMatchObject({ sub: claims.sub, amr: ['fed'], idp: upstream.id });

    // Another browser, another sign-in at the upstream: the same account, no new one.
    const again = new UserAgent();
    const second = await signInThroughUpstream(again, person);
    const secondClaims = (await tokensAfterConsent(again, second.authorization, second.page)).claims;
    expect(secondClaims.sub).toBe(claims.sub);
    expect((await app.server.stores.users.list({ search: person.email, skip: 0, limit: 5 })).total).toBe(1);
    expect(events('login.succeeded').filter((entry) => entry.upstream === upstream.id).length).toBeGreaterThanOrEqual(2);
  });

  test('an app that asks for a fresh sign-in (prompt=login) gets one at the upstream too', async () => {
    const person = await upstream.createPerson('fresh');
    const agent = new UserAgent();
    const first = await signInThroughUpstream(agent, person);
    await tokensAfterConsent(agent, first.authorization, first.page);

    // Signed in here and at the upstream: without prompt=login the upstream sends the person straight back.
    const quiet = await app.rp.authorize({ prompt: 'login consent' });
    const loginPage = await openAuthorization(agent, quiet);
    const left = expectPage(await continueWith(agent, loginPage, upstream.id, RP_REDIRECT_URI));
    expect(left.url.startsWith(upstream.issuer)).toBe(true);
    expect(left.$('form[action$="/login"] input[name=password]')).toHaveLength(1);
    const back = expectPage(
      await throughUpstream(
        agent,
        { page: left, hops: [] },
        upstream,
        { login: person.username, password: person.password },
        RP_REDIRECT_URI,
      ),
    );
    const { claims } = await tokensAfterConsent(agent, quiet, back);
    expect(claims.auth_time).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 30);
  });

  test('an account with the same email is linked only after signing in to it; then the upstream alone signs in', async () => {
    const local = newAccount('local');
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), local);
    const owner = await app.server.users.userService.findByLogin(local.email);
    const person = await upstream.createPerson('same-email', { email: local.email });

    const agent = new UserAgent();
    const { authorization, page: linkPage } = await signInThroughUpstream(agent, person);
    expect(linkPage.$('h1').text()).toBe('Link your account');
    expect(linkPage.$('input[name=login]').val()).toBe(local.email);
    expect(await app.server.stores.users.findByLink(upstream.issuer, person.id)).toBeUndefined();

    const wrong = expectPage(
      await agent.submit(linkPage, 'form[action$="/upstream/link"]', { login: local.email, password: 'not the password at all' }),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.$('[role=alert]').text()).toBe('Invalid email/username or password.');
    expect(await app.server.stores.users.findByLink(upstream.issuer, person.id)).toBeUndefined();

    const linked = expectPage(
      await agent.submit(wrong, 'form[action$="/upstream/link"]', { login: local.email, password: local.password }, RP_REDIRECT_URI),
    );
    const { claims } = await tokensAfterConsent(agent, authorization, linked);
    expect(claims.sub).toBe(owner?.id);
    expect(claims.amr).toEqual(['fed', 'pwd']);
    expect((await app.server.stores.users.findByLink(upstream.issuer, person.id))?.id).toBe(owner?.id);

    const later = new UserAgent();
    const next = await signInThroughUpstream(later, person);
    expect((await tokensAfterConsent(later, next.authorization, next.page)).claims).toMatchObject({ sub: owner?.id, amr: ['fed'] });

    // Unlinking on the account page (this browser is signed in there): the upstream no longer signs in to it.
    const account = expectPage(await agent.get(`${app.server.url}/account`));
    expect(account.$('#linked-heading').text()).toBe('Linked sign-ins');
    const removed = expectPage(await agent.submit(account, 'form[action="/account/links/remove"]'));
    expect(removed.$('.flash').text()).toBe('The Upstream ID sign-in was removed.');
    expect(await app.server.stores.users.linksOf(owner?.id ?? '')).toEqual([]);
    const afterUnlink = await signInThroughUpstream(new UserAgent(), person);
    expect(afterUnlink.page.$('h1').text()).toBe('Link your account');

    // Linking again from the account page: a trip to the upstream that comes back to this account.
    const offered = expectPage(await agent.get(`${app.server.url}/account`));
    const left = await agent.submit(offered, 'form[action="/account/links/add"]', { upstream: upstream.id });
    const relinked = expectPage(await throughUpstream(agent, left, upstream, { login: person.username, password: person.password }));
    expect(relinked.url).toBe(`${app.server.url}/account`);
    expect(relinked.$('.flash--success').text()).toBe('Upstream ID is now linked: you can sign in with it.');
    expect((await app.server.stores.users.findByLink(upstream.issuer, person.id))?.id).toBe(owner?.id);
    // The same identity cannot be linked to a second account.
    const other = new UserAgent();
    const otherAccount = newAccount('other');
    await registerAndConsent(other, await app.rp.authorize(), otherAccount);
    const otherPage = expectPage(await other.get(`${app.server.url}/account`));
    const taken = expectPage(
      await throughUpstream(
        other,
        await other.submit(otherPage, 'form[action="/account/links/add"]', { upstream: upstream.id }),
        upstream,
        {
          login: person.username,
          password: person.password,
        },
      ),
    );
    expect(taken.$('.flash--error').text()).toBe('That Upstream ID account is already linked to another account here.');
  });

  test('linking and unlinking on the account page need a recent sign-in; the owner is emailed about each', async () => {
    const local = newAccount('stale-link');
    const agent = new UserAgent();
    await registerAndConsent(agent, await app.rp.authorize(), local);
    const owner = await app.server.users.userService.findByLogin(local.email);
    const person = await upstream.createPerson('stale-link');
    // Ten minutes and more pass.
    await dateBackSignIn(app.server, agent);

    // A session alone (a stolen cookie, an unattended browser) is sent to sign in again, not to the upstream.
    const asked = expectPage(
      await agent.submit(expectPage(await agent.get(`${app.server.url}/account`)), 'form[action="/account/links/add"]', {
        upstream: upstream.id,
      }),
    );
    expect(asked.$('form[action$="/login"]')).toHaveLength(1);
    expect(await app.server.stores.users.linksOf(owner?.id ?? '')).toEqual([]);
    const back = expectPage(await signInFrom(agent, asked, local.username, local.password));
    expect(back.url).toBe(`${app.server.url}/account#linked-heading`);

    const left = await agent.submit(back, 'form[action="/account/links/add"]', { upstream: upstream.id });
    const linked = expectPage(await throughUpstream(agent, left, upstream, { login: person.username, password: person.password }));
    expect(linked.$('.flash--success').text()).toBe('Upstream ID is now linked: you can sign in with it.');
    const mailTo = (line: string) => events('mail.outbox').some((entry) => entry.to === local.email && String(entry.body).includes(line));
    expect(mailTo('Signing in with Upstream ID was linked to your account')).toBe(true);

    // Removing it later asks again too.
    await dateBackSignIn(app.server, agent);
    const askedAgain = expectPage(
      await agent.submit(expectPage(await agent.get(`${app.server.url}/account`)), 'form[action="/account/links/remove"]'),
    );
    expect(askedAgain.$('form[action$="/login"]')).toHaveLength(1);
    expect(await app.server.stores.users.linksOf(owner?.id ?? '')).toHaveLength(1);
    const removed = expectPage(
      await agent.submit(
        expectPage(await signInFrom(agent, askedAgain, local.username, local.password)),
        'form[action="/account/links/remove"]',
      ),
    );
    expect(removed.$('.flash').text()).toBe('The Upstream ID sign-in was removed.');
    expect(await app.server.stores.users.linksOf(owner?.id ?? '')).toEqual([]);
    expect(mailTo('Signing in with Upstream ID was removed from your account')).toBe(true);
  });

  test("an account's second factor follows an upstream sign-in, and linking to it needs that factor too", async () => {
    const local = newAccount('two-step');
    const owner = new UserAgent();
    await registerAndConsent(owner, await app.rp.authorize(), local);
    const { authenticator } = await setUpTotp(owner, expectPage(await owner.get(`${app.server.url}/account/two-step`)));
    const account = await app.server.users.userService.findByLogin(local.email);
    const person = await upstream.createPerson('two-step', { email: local.email });

    // Linking: the password, then the account's code; the link is made only once both are given.
    const agent = new UserAgent();
    const { authorization, page: linkPage } = await signInThroughUpstream(agent, person);
    const secondStep = expectPage(
      await agent.submit(linkPage, 'form[action$="/upstream/link"]', { login: local.email, password: local.password }),
    );
    expect(isSecondStepPage(secondStep)).toBe(true);
    expect(await app.server.stores.users.findByLink(upstream.issuer, person.id)).toBeUndefined();
    const linked = expectPage(await submitTotp(agent, secondStep, await authenticator.code()));
    const { claims } = await tokensAfterConsent(agent, authorization, linked);
    expect(claims).toMatchObject({ sub: account?.id, acr: '2', amr: ['fed', 'pwd', 'otp', 'mfa'], idp: upstream.id });
    expect((await app.server.stores.users.findByLink(upstream.issuer, person.id))?.id).toBe(account?.id);

    // Later, the upstream is the first factor and the account's code the second: acr 2.
    const later = new UserAgent();
    const next = await signInThroughUpstream(later, person);
    expect(isSecondStepPage(next.page)).toBe(true);
    const done = expectPage(await submitTotp(later, next.page, await authenticator.code()));
    expect((await tokensAfterConsent(later, next.authorization, done)).claims).toMatchObject({
      sub: account?.id,
      acr: '2',
      amr: ['fed', 'otp', 'mfa'],
      idp: upstream.id,
    });
    const activity = (await app.server.users.events.ofAccount(account?.id ?? '')).map((event) => event.type);
    expect(activity).toEqual(expect.arrayContaining(['account.upstream_linked', 'login.succeeded']));
  });

  test('an account made through an upstream, asked for a second factor it does not have, sets one up right after the upstream', async () => {
    const person = await upstream.createPerson('fed-setup');
    const agent = new UserAgent();
    const authorization = await app.rp.authorize({ acr_values: '2' });
    const left = await continueWith(agent, await openAuthorization(agent, authorization), upstream.id, RP_REDIRECT_URI);
    const back = expectPage(
      await throughUpstream(agent, left, upstream, { login: person.username, password: person.password }, RP_REDIRECT_URI),
    );
    // Before: the page asked for a password this account never had.
    expect(isSetupPage(back)).toBe(true);
    const { page: codes } = await setUpTotp(agent, back);
    const consent = expectPage(await agent.submit(codes, 'form[action$="/continue"]', {}, RP_REDIRECT_URI));
    const { claims } = await tokensAfterConsent(agent, authorization, consent);
    expect(claims).toMatchObject({ acr: '2', amr: ['fed', 'otp', 'mfa'], idp: upstream.id });
  });

  test('linking finished with a recovery code, whose page comes between the sign-in and the app, makes the link and keeps the idp', async () => {
    const local = newAccount('recovery-link');
    const owner = new UserAgent();
    await registerAndConsent(owner, await app.rp.authorize(), local);
    const { recoveryCodes } = await setUpTotp(owner, expectPage(await owner.get(`${app.server.url}/account/two-step`)));
    const account = await app.server.users.userService.findByLogin(local.email);
    const person = await upstream.createPerson('recovery-link', { email: local.email });

    const agent = new UserAgent();
    const { authorization, page: linkPage } = await signInThroughUpstream(agent, person);
    const secondStep = expectPage(
      await agent.submit(linkPage, 'form[action$="/upstream/link"]', { login: local.email, password: local.password }),
    );
    const used = expectPage(await submitRecoveryCode(agent, secondStep, recoveryCodes[0] ?? ''));
    expect(used.$('h1').text()).toBe('Recovery code accepted');
    const consent = expectPage(await agent.submit(used, 'form[action$="/continue"]', {}, RP_REDIRECT_URI));
    const { claims } = await tokensAfterConsent(agent, authorization, consent);
    expect(claims).toMatchObject({ sub: account?.id, acr: '2', amr: ['fed', 'pwd', 'otp', 'mfa'], idp: upstream.id });
    expect((await app.server.stores.users.findByLink(upstream.issuer, person.id))?.id).toBe(account?.id);
  });

  test('the last way in of an account without a password cannot be removed; it may get a password by email', async () => {
    const person = await upstream.createPerson('only');
    const agent = new UserAgent();
    const { authorization, page } = await signInThroughUpstream(agent, person);
    const { claims } = await tokensAfterConsent(agent, authorization, page);
    const account = expectPage(await agent.get(`${app.server.url}/account`));
    expect(account.$('form[action="/account/password"]')).toHaveLength(0);
    expect(account.$('form[action="/account/set-password"]')).toHaveLength(1);
    const refused = expectPage(await agent.submit(account, 'form[action="/account/links/remove"]'));
    expect(refused.$('.flash--error').text()).toContain('This is the only way you can sign in');
    expect(await app.server.stores.users.linksOf(claims.sub)).toHaveLength(1);
    const sent = expectPage(await agent.submit(refused, 'form[action="/account/set-password"]'));
    expect(sent.$('.flash--success').text()).toBe(`We sent a link to ${person.email}: open it to choose a password.`);
    expect(events('mail.outbox').some((entry) => JSON.stringify(entry).includes(person.email))).toBe(true);
  });

  test('a disabled account is refused even though the upstream signs the person in', async () => {
    const person = await upstream.createPerson('disabled');
    const agent = new UserAgent();
    const first = await signInThroughUpstream(agent, person);
    const { claims } = await tokensAfterConsent(agent, first.authorization, first.page);
    await app.server.users.admin.setActive(claims.sub, false);

    const refused = await signInThroughUpstream(new UserAgent(), person);
    expect(refused.page.status).toBe(403);
    expect(refused.page.$('[role=alert]').text()).toBe('This account has been disabled. Contact the administrator of this service.');
    expect(events('login.failed').some((entry) => entry.reason === 'disabled' && entry.upstream === upstream.id)).toBe(true);
    await app.server.users.admin.setActive(claims.sub, true);
  });

  test('a tampered state, a replayed callback, another browser and a mix-up are refused', async () => {
    const person = await upstream.createPerson('replay');
    const callbackPrefix = `${app.server.url}/upstream/${upstream.id}/callback`;
    /** Runs a sign-in until the upstream sends the browser back, and returns that callback URL unvisited. */
    const callbackOf = async (agent: UserAgent) => {
      const loginPage = await openAuthorization(agent, await app.rp.authorize());
      const left = await continueWith(agent, loginPage, upstream.id, callbackPrefix);
      return expectRedirect(
        await throughUpstream(agent, left, upstream, { login: person.username, password: person.password }, callbackPrefix),
      );
    };

    const agent = new UserAgent();
    const first = await callbackOf(agent);
    expect(first.searchParams.get('iss')).toBe(upstream.issuer); // the upstream says RFC 9207 iss, and it is checked
    const tampered = new URL(first);
    tampered.searchParams.set('state', `${first.searchParams.get('state')}x`);
    const refused = expectPage(await agent.get(tampered));
    expect(refused.status).toBe(400);
    expect(refused.$('.hint').text()).toContain('upstream_expired');
    // The browser's state cookie is used once, whatever came with it: that attempt is over too.
    expect(expectPage(await agent.get(first)).status).toBe(400);

    const callback = await callbackOf(agent);
    const used = expectPage(await agent.get(callback, RP_REDIRECT_URI));
    expect(isConsent(used)).toBe(true);
    const replayed = expectPage(await agent.get(callback, RP_REDIRECT_URI));
    expect(replayed.status).toBe(400);
    expect(replayed.$('h1').text()).toBe('Sign-in with Upstream ID did not work');
    expect(replayed.$('main p').first().text()).toBe('This sign-in has expired or was already used. Go back and start again.');

    // A callback that reaches another browser (a login CSRF) is refused, and used up.
    const victim = new UserAgent();
    const stolen = expectPage(await victim.get(await callbackOf(new UserAgent())));
    expect(stolen.status).toBe(400);
    expect(stolen.$('.hint').text()).toContain('upstream_mismatch');

    // A response meant for one upstream, delivered to another's callback.
    const mixer = new UserAgent();
    const mixed = new URL(await callbackOf(mixer));
    mixed.pathname = '/upstream/github-like/callback';
    const mixUp = expectPage(await mixer.get(mixed));
    expect(mixUp.status).toBe(400);
    const reasons = events('upstream.callback_refused').map((entry) => entry.reason);
    expect(reasons).toEqual(expect.arrayContaining(['unknown_or_used_state', 'browser_mismatch', 'mix_up']));
  });

  test('a person who says no at the upstream gets a page that says so, with a way back', async () => {
    github.signIn('deny');
    const agent = new UserAgent();
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    const denied = expectPage(await continueWith(agent, loginPage, 'github-like', RP_REDIRECT_URI));
    expect(denied.status).toBe(400);
    expect(denied.$('main p').first().text()).toBe('GitHub-like did not sign you in (access_denied). Try again, or sign in another way.');
    const back = denied.$('main a').first().attr('href') ?? '';
    expect(back).toMatch(/^\/interaction\/[\w-]+$/);
    expect(
      expectPage(await agent.get(new URL(back, app.server.url)))
        .$('h1')
        .text(),
    ).toBe('Sign in');
  });

  test('trips to upstreams share the per-address budget of authorization requests', async () => {
    const scope = isolation('e2e-upstream-limit');
    const strict = await app.start({ backends: scope, clients: () => [client], env: { ...upstreamEnv(), IDP_AUTH_MAX_PER_IP: '2' } });
    try {
      const rp = await RelyingParty.discover(strict.url, client);
      const agent = new UserAgent();
      const loginPage = await openAuthorization(agent, await rp.authorize()); // the first of two
      const left = expectPage(await continueWith(agent, loginPage, upstream.id)); // the second: off to the upstream
      expect(left.url.startsWith(upstream.issuer)).toBe(true);
      const refused = expectPage(await continueWith(agent, loginPage, upstream.id));
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(refused.$('main p').first().text()).toMatch(/^Too many sign-in requests came from your network\./);
    } finally {
      await strict.close();
      await dropIsolation(scope);
    }
  });

  describe('a plain OAuth 2.0 upstream shaped like GitHub', () => {
    let nextId = 4000;
    const githubUser = (login: string, emails: GitHubLikeUser['emails'], name: string | null = null): GitHubLikeUser => {
      nextId += 1;
      return { id: nextId, login, name, publicEmail: null, emails };
    };
    async function signInAt(agent: UserAgent, user: GitHubLikeUser) {
      github.signIn(user);
      const authorization = await app.rp.authorize();
      const loginPage = await openAuthorization(agent, authorization);
      return { authorization, page: expectPage(await continueWith(agent, loginPage, 'github-like', RP_REDIRECT_URI)) };
    }

    test('maps id, login, name and the primary verified address; PKCE and client_secret_post reach its token endpoint', async () => {
      const tag = Date.now().toString(36);
      const octo = githubUser(
        `octo-${tag}`,
        [
          { email: `second-${tag}@example.com`, primary: false, verified: true, visibility: null },
          { email: `Octo-${tag}@Example.com`, primary: true, verified: true, visibility: 'private' },
        ],
        'Octo Cat',
      );
      const agent = new UserAgent();
      const { authorization, page } = await signInAt(agent, octo);
      const { tokens, claims } = await tokensAfterConsent(agent, authorization, page);
      expect(claims).toMatchObject({ amr: ['fed'], idp: 'github-like' });
      const user = await app.server.stores.users.findById(claims.sub);
      expect(user).toMatchObject({ username: octo.login, email: `octo-${tag}@example.com`, emailVerified: true, name: 'Octo Cat' });
      expect(await app.server.stores.users.linksOf(claims.sub)).toEqual([
        expect.objectContaining({ issuer: github.url, subject: String(octo.id), upstream: 'github-like' }),
      ]);
      const request = github.tokenRequests.at(-1);
      expect(request).toMatchObject({ grant_type: 'authorization_code', client_id: github.clientId, client_secret: github.clientSecret });
      expect(request?.code_verifier).toMatch(/^[\w-]{43,128}$/);
      // The upstream's access tokens stay with us: not in the app's tokens, nor its userinfo.
      const userinfo = await app.rp.userinfo(tokens.access_token, claims.sub);
      for (const issued of github.issuedTokens) expect(JSON.stringify({ tokens, claims, userinfo })).not.toContain(issued);
    });

    test('a taken username is changed on a short page; an unverified address stays unverified', async () => {
      const taken = githubUser(`dup-${nextId}`, [
        { email: `dup-first-${nextId}@example.com`, primary: true, verified: true, visibility: null },
      ]);
      const firstAgent = new UserAgent();
      const first = await signInAt(firstAgent, taken);
      await tokensAfterConsent(firstAgent, first.authorization, first.page);

      const clash = githubUser(taken.login, [
        { email: `dup-second-${nextId}@example.com`, primary: true, verified: false, visibility: null },
      ]);
      const agent = new UserAgent();
      const { authorization, page } = await signInAt(agent, clash);
      expect(page.$('h1').text()).toBe('Choose your username');
      expect(page.$('#username').val()).toBe(taken.login);
      expect(page.$('#username-error').text()).toBe('This username is already taken. Choose another one.');
      expect(page.$('#email')).toHaveLength(0);
      const chosen = `${taken.login}-2`;
      const created = expectPage(await agent.submit(page, 'form[action$="/upstream/create"]', { username: chosen }, RP_REDIRECT_URI));
      const { claims } = await tokensAfterConsent(agent, authorization, created);
      const user = await app.server.stores.users.findById(claims.sub);
      expect(user).toMatchObject({ username: chosen, emailVerified: false });
      if (!user) throw new Error('no account');

      // Whoever made the account on a mere claim of the address turns on an authenticator app of their own...
      await setUpTotp(agent, expectPage(await agent.get(`${app.server.url}/account/two-step`)));
      expect((await app.server.stores.users.findById(claims.sub))?.factors.totp).toBeDefined();
      // ...and the mailbox's owner, who follows the verification link in another browser, does not
      // make that account one of a verified address: only a browser signed in to it may.
      const mail = events('mail.outbox').find((entry) => entry.to === user.email && String(entry.body).includes('/verify-email?token='));
      const verifyLink = /https?:\/\/\S+\/verify-email\?token=[\w-]+/.exec(String(mail?.body))?.[0] ?? '';
      const owner = new UserAgent();
      const refused = expectPage(await owner.submit(expectPage(await owner.get(verifyLink)), 'form[action="/verify-email"]'));
      expect(refused.status).toBe(403);
      expect(refused.$('h1').text()).toBe('Sign in to confirm this address');
      expect((await app.server.stores.users.findById(claims.sub))?.emailVerified).toBe(false);

      // Whoever resets the password of an account with an unproven address holds the mailbox: the
      // upstream sign-in and the app set up on a mere claim of that address go (account
      // pre-hijacking), and the address is proven.
      const token = new URL(await app.server.users.passwordReset.linkFor(user, { emailed: true })).searchParams.get('token') ?? '';
      const reset = await app.server.users.passwordReset.reset(token, 'a fresh long passphrase 42', 'a fresh long passphrase 42');
      expect(reset.ok).toBe(true);
      expect(await app.server.stores.users.linksOf(claims.sub)).toEqual([]);
      expect(await app.server.stores.users.findById(claims.sub)).toMatchObject({ emailVerified: true, factors: { recoveryCodes: [] } });
      expect((await app.server.stores.users.findById(claims.sub))?.factors.totp).toBeUndefined();
      expect(events('account.unproven_factors_removed')).toEqual([expect.objectContaining({ accountId: claims.sub })]);
      const removedEvents = events('account.upstream_links_removed');
      expect(removedEvents).toEqual([expect.objectContaining({ accountId: claims.sub })]);
      expect(JSON.stringify(removedEvents)).toContain('"count":1');
      // ...and the account's activity shows it.
      expect((await app.server.users.events.ofAccount(claims.sub)).map((event) => event.type)).toContain('account.upstream_links_removed');
    });

    test('without an address from the upstream, the page asks for one, which stays unverified', async () => {
      const silent = githubUser(`silent-${nextId}`, []);
      const agent = new UserAgent();
      const { authorization, page } = await signInAt(agent, silent);
      expect(page.$('h1').text()).toBe('Choose your username');
      const email = `silent-${silent.id}@example.com`;
      const missing = expectPage(await agent.submit(page, 'form[action$="/upstream/create"]', { username: silent.login, email: '' }));
      expect(missing.status).toBe(400);
      expect(missing.$('#email-error').text()).toBe('Enter your email address.');
      const created = expectPage(
        await agent.submit(missing, 'form[action$="/upstream/create"]', { username: silent.login, email }, RP_REDIRECT_URI),
      );
      const { claims } = await tokensAfterConsent(agent, authorization, created);
      expect(await app.server.stores.users.findById(claims.sub)).toMatchObject({ email, emailVerified: false });
    });
  });
});

import { describe, expect, test } from '@jest/globals';
import { useTestApp } from '../support/app-fixture.ts';
import { authorizeAs, newAccount, openAuthorization, RelyingParty, registerFrom, rpClient } from '../support/relying-party.ts';
import { expectPage, expectRedirect, UserAgent } from '../support/user-agent.ts';

/** The operator's own apps: no consent screen, and a refresh token without prompt=consent. */
describe('first-party clients', () => {
  const own = rpClient({ client_id: 'own-app', client_name: 'Own app', first_party: true } as Parameters<typeof rpClient>[0]);
  const other = rpClient({ client_id: 'other-app', client_name: 'Other app' });
  const app = useTestApp('e2e-first-party', { clients: () => [own, other], relyingParty: own });
  /** No prompt: a plain sign-in, as most apps send it. */
  const plain = { prompt: '', scope: 'openid profile email offline_access' };

  test('registration goes straight back to the app, and the code brings a refresh token', async () => {
    const agent = new UserAgent();
    const authorization = await app.rp.authorize(plain);
    const callback = expectRedirect(await registerFrom(agent, await openAuthorization(agent, authorization), newAccount('own')));
    const tokens = await app.rp.exchange(authorization, callback);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.claims()?.email).toEqual(expect.any(String));
    const refreshed = await app.rp.refresh(tokens.refresh_token ?? '');
    expect(refreshed.access_token).toEqual(expect.any(String));
  });

  test('a sign-in shows no consent; the refresh token outlives the sign-in session, as an offline_access one does', async () => {
    const account = newAccount('offline');
    await app.server.users.admin.create(account);
    const authorization = await app.rp.authorize(plain);
    const result = await authorizeAs(new UserAgent(), authorization.url, { login: account.username, password: account.password });
    expect(result).toMatchObject({ loginShown: true, consentShown: false });
    const tokens = await app.rp.exchange(authorization, result.callback);
    const sub = tokens.claims()?.sub ?? '';
    expect(await app.server.stores.endSessionsOf(sub)).toBe(1);
    expect((await app.rp.refresh(tokens.refresh_token ?? '')).access_token).toEqual(expect.any(String));
  });

  test('prompt=consent still asks, because the app asked', async () => {
    const account = newAccount('asked');
    await app.server.users.admin.create(account);
    const authorization = await app.rp.authorize({ prompt: 'consent' });
    const result = await authorizeAs(new UserAgent(), authorization.url, { login: account.username, password: account.password });
    expect(result.consentShown).toBe(true);
  });

  test('another app still shows the consent page and gets no refresh token without prompt=consent', async () => {
    const account = newAccount('third');
    await app.server.users.admin.create(account);
    const rp = await RelyingParty.discover(app.server.url, other);
    const authorization = await rp.authorize(plain);
    const agent = new UserAgent();
    const loginPage = await openAuthorization(agent, authorization);
    const consent = expectPage(
      await agent.submit(loginPage, 'form[action$="/login"]', { login: account.username, password: account.password }),
    );
    expect(consent.$('form[action$="/confirm"]')).toHaveLength(1);
    const callback = expectRedirect(
      await agent.submit(consent, 'form[action$="/confirm"]', {}, authorization.url.searchParams.get('redirect_uri') ?? ''),
    );
    const tokens = await rp.exchange(authorization, callback);
    expect(tokens.refresh_token).toBeUndefined();
  });
});

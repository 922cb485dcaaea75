import { describe, expect, test } from '@jest/globals';
import { useTestApp } from '../support/app-fixture.ts';
import { sleep } from '../support/eventually.ts';
import { newAccount, openAuthorization, RP_REDIRECT_URI, registerAndConsent, rpClient } from '../support/relying-party.ts';
import { expectRedirect, UserAgent } from '../support/user-agent.ts';

/** OpenID Connect Core §3.1.2.1 request parameters, as the specification says they behave. */
describe('authorization request parameters', () => {
  const client = rpClient();
  const app = useTestApp('request-parameters', { clients: () => [client], env: { IDP_CLOCK_TOLERANCE: '0' }, relyingParty: client });

  const signedIn = async (label: string) => {
    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    const tokens = await app.rp.exchange(authorization, await registerAndConsent(agent, authorization, newAccount(label)));
    return { agent, tokens };
  };
  const silently = async (agent: UserAgent, parameters: Record<string, string>) =>
    expectRedirect(await agent.get((await app.rp.authorize({ prompt: 'none', scope: 'openid', ...parameters })).url, RP_REDIRECT_URI));

  test('login_hint fills in the sign-in form', async () => {
    const page = await openAuthorization(new UserAgent(), await app.rp.authorize({ login_hint: 'someone@example.com' }));
    expect(page.$('input[name=login]').val()).toBe('someone@example.com');
  });

  test('prompt=none without a session answers login_required; with one, a code', async () => {
    expect((await silently(new UserAgent(), {})).searchParams.get('error')).toBe('login_required');
    const { agent } = await signedIn('none');
    expect((await silently(agent, {})).searchParams.get('code')).toEqual(expect.any(String));
  });

  test('max_age: a sign-in older than it asks again (and prompt=none then fails); auth_time is in the ID token', async () => {
    const { agent, tokens } = await signedIn('maxage');
    expect(tokens.claims()?.auth_time).toEqual(expect.any(Number));
    expect(tokens.claims()?.amr).toEqual(['pwd']);
    expect((await silently(agent, { max_age: '60' })).searchParams.get('code')).toEqual(expect.any(String));
    await sleep(2100);
    expect((await silently(agent, { max_age: '1' })).searchParams.get('error')).toBe('login_required');
    const page = await openAuthorization(agent, await app.rp.authorize({ max_age: '1' }));
    expect(page.$('h1').text()).toBe('Sign in');
  });

  test("id_token_hint: the signed-in user passes silently; another user's hint does not", async () => {
    const alice = await signedIn('alice');
    const bob = await signedIn('bob');
    expect((await silently(alice.agent, { id_token_hint: alice.tokens.id_token ?? '' })).searchParams.get('code')).toEqual(
      expect.any(String),
    );
    expect((await silently(alice.agent, { id_token_hint: bob.tokens.id_token ?? '' })).searchParams.get('error')).toBe('login_required');
  });

  test('ui_locales is accepted', async () => {
    const page = await openAuthorization(new UserAgent(), await app.rp.authorize({ ui_locales: 'fr-CA fr en' }));
    expect(page.status).toBe(200);
  });
});

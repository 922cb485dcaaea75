import { describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { useTestApp } from '../support/app-fixture.ts';
import { newAccount, RelyingParty, registerAndConsent, rpClient } from '../support/relying-party.ts';
import { UserAgent } from '../support/user-agent.ts';

/**
 * Refresh tokens as RFC 9700 §4.14.2 asks: issued only when `offline_access` was granted (and the
 * client has the refresh_token grant); a public client's token rotates at every use, and replaying a
 * used one revokes the whole grant; a confidential client's token stays the same, since the client
 * secret already binds it.
 */
describe('refresh tokens', () => {
  const confidential = rpClient();
  const publicClient = rpClient({ client_id: 'spa', client_secret: undefined, token_endpoint_auth_method: 'none' });
  const noRefreshGrant = rpClient({ client_id: 'no-refresh', grant_types: ['authorization_code'] });
  const app = useTestApp('refresh', { clients: () => [confidential, publicClient, noRefreshGrant] });

  const signIn = async (client: typeof confidential, parameters: Record<string, string> = {}) => {
    const rp = await RelyingParty.discover(app.server.url, client);
    const authorization = await rp.authorize(parameters);
    return {
      rp,
      tokens: await rp.exchange(authorization, await registerAndConsent(new UserAgent(), authorization, newAccount('refresh'))),
    };
  };

  test('only with offline_access, and only for clients with the refresh_token grant', async () => {
    expect((await signIn(confidential, { scope: 'openid profile' })).tokens.refresh_token).toBeUndefined();
    expect((await signIn(confidential)).tokens.refresh_token).toEqual(expect.any(String));
    expect((await signIn(noRefreshGrant)).tokens.refresh_token).toBeUndefined();
  });

  test("a public client's token rotates; replaying the old one revokes the grant and every token of it", async () => {
    const { rp, tokens } = await signIn(publicClient);
    const first = tokens.refresh_token ?? '';
    const rotated = await rp.refresh(first);
    const second = rotated.refresh_token ?? '';
    expect(second).toEqual(expect.any(String));
    expect(second).not.toBe(first);
    const sub = tokens.claims()?.sub ?? '';
    expect((await rp.userinfo(rotated.access_token, sub)).sub).toBe(sub);

    // An attacker (or a confused tab) replays the token that was already used.
    await expect(rp.refresh(first)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(rp.refresh(second)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(rp.userinfo(rotated.access_token, sub)).rejects.toMatchObject({ status: 401 });
    const introspected = await oidc.tokenIntrospection(
      (await RelyingParty.discover(app.server.url, confidential)).config,
      rotated.access_token,
    );
    expect(introspected.active).toBe(false);
  });

  test("a confidential client's token is not rotated and keeps working", async () => {
    const { rp, tokens } = await signIn(confidential);
    const token = tokens.refresh_token ?? '';
    const once = await rp.refresh(token);
    expect(once.refresh_token ?? token).toBe(token);
    const twice = await rp.refresh(token);
    expect(twice.access_token).not.toBe(once.access_token);
  });
});

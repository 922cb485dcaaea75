import { describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { useTestApp } from '../support/app-fixture.ts';
import { newAccount, RelyingParty, RP_REDIRECT_URI, registerAndConsent, rpClient } from '../support/relying-party.ts';
import { expectRedirect, UserAgent } from '../support/user-agent.ts';

/** Protocol defaults seen by a relying party (openid-client) on real Redis and MongoDB. */
describe('protocol defaults', () => {
  const client = rpClient();
  const parOnly = rpClient({ client_id: 'par-only', require_pushed_authorization_requests: true });
  const publicClient = rpClient({ client_id: 'spa', client_secret: undefined, token_endpoint_auth_method: 'none' });
  const app = useTestApp('protocol', { clients: () => [client, parOnly, publicClient], relyingParty: client });

  const signedInTokens = async (party = app.rp) => {
    const authorization = await party.authorize();
    return party.exchange(authorization, await registerAndConsent(new UserAgent(), authorization, newAccount('proto')));
  };

  test('introspection (RFC 7662) answers authenticated clients about tokens', async () => {
    const tokens = await signedInTokens();
    const active = await oidc.tokenIntrospection(app.rp.config, tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: client.client_id, sub: tokens.claims()?.sub, token_type: 'Bearer' });
    expect(await oidc.tokenIntrospection(app.rp.config, 'not-a-token')).toEqual({ active: false });
    const anonymous = await fetch(new URL('/token/introspection', app.server.url), {
      method: 'POST',
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    expect(anonymous.status).toBe(400);
    expect(((await anonymous.json()) as { error: string }).error).toBe('invalid_request');
  });

  test('revocation (RFC 7009) of a refresh token stops it', async () => {
    const tokens = await signedInTokens();
    await oidc.tokenRevocation(app.rp.config, tokens.refresh_token ?? '');
    await expect(app.rp.refresh(tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('PKCE is required of confidential clients too; implicit response types are refused', async () => {
    const withoutPkce = oidc.buildAuthorizationUrl(app.rp.config, { redirect_uri: RP_REDIRECT_URI, scope: 'openid', state: 's' });
    const refused = expectRedirect(await new UserAgent().get(withoutPkce, RP_REDIRECT_URI));
    expect(refused.searchParams.get('error')).toBe('invalid_request');
    expect(refused.searchParams.get('error_description')).toMatch(/requires PKCE/);

    const implicit = oidc.buildAuthorizationUrl(app.rp.config, {
      redirect_uri: RP_REDIRECT_URI,
      scope: 'openid',
      response_type: 'token',
      nonce: 'n',
    });
    const denied = expectRedirect(await new UserAgent().get(implicit, RP_REDIRECT_URI));
    // An implicit-style request gets its error in the fragment, and never a token.
    const answer = new URLSearchParams(denied.hash.slice(1));
    expect(answer.get('error')).toBe('unsupported_response_type');
    expect(answer.get('access_token')).toBeNull();
  });

  test('pushed authorization requests (RFC 9126) work, and a client can be required to use them', async () => {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const url = await oidc.buildAuthorizationUrlWithPAR(app.rp.config, {
      redirect_uri: RP_REDIRECT_URI,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const login = await new UserAgent().get(url, RP_REDIRECT_URI);
    expect(login.page?.$('h1').text()).toBe('Sign in');

    const parRp = await RelyingParty.discover(app.server.url, parOnly);
    const plain = await new UserAgent().get((await parRp.authorize()).url, RP_REDIRECT_URI);
    expect(plain.redirectedTo?.searchParams.get('error') ?? plain.page?.$('main').text()).toMatch(/invalid_request/);
  });

  test('DPoP (RFC 9449) binds tokens to the client key', async () => {
    const dpop = oidc.getDPoPHandle(app.rp.config, await oidc.randomDPoPKeyPair());
    const authorization = await app.rp.authorize();
    const callback = await registerAndConsent(new UserAgent(), authorization, newAccount('dpop'));
    const tokens = await oidc.authorizationCodeGrant(
      app.rp.config,
      callback,
      { pkceCodeVerifier: authorization.codeVerifier, expectedState: authorization.state, expectedNonce: authorization.nonce },
      undefined,
      { DPoP: dpop },
    );
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const sub = tokens.claims()?.sub ?? '';
    expect((await oidc.fetchUserInfo(app.rp.config, tokens.access_token, sub, { DPoP: dpop })).sub).toBe(sub);
    // The same token as a plain bearer token is refused.
    const bearer = await fetch(new URL('/me', app.server.url), { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(bearer.status).toBe(401);
    await bearer.text();
  });

  test("CORS only for the client's own origins on token and userinfo; never on the authorization endpoint", async () => {
    const tokens = await signedInTokens();
    const userinfo = (origin: string) =>
      fetch(new URL('/me', app.server.url), { headers: { Authorization: `Bearer ${tokens.access_token}`, Origin: origin } });
    const own = await userinfo(new URL(RP_REDIRECT_URI).origin);
    expect(own.headers.get('access-control-allow-origin')).toBe(new URL(RP_REDIRECT_URI).origin);
    const other = await userinfo('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    await Promise.all([own.text(), other.text()]);

    const authorize = await fetch((await app.rp.authorize()).url, {
      headers: { Origin: new URL(RP_REDIRECT_URI).origin },
      redirect: 'manual',
    });
    expect(authorize.headers.get('access-control-allow-origin')).toBeNull();
    await authorize.text();
    const discovery = await fetch(new URL('/.well-known/openid-configuration', app.server.url), {
      headers: { Origin: 'https://any.example' },
    });
    expect(discovery.headers.get('access-control-allow-origin')).toBe('https://any.example'); // public metadata
    await discovery.text();
  });

  test('userinfo carries updated_at; discovery advertises the endpoints that are on', async () => {
    const tokens = await signedInTokens();
    const userinfo = await app.rp.userinfo(tokens.access_token, tokens.claims()?.sub ?? '');
    expect(userinfo.updated_at).toEqual(expect.any(Number));
    const metadata = app.rp.config.serverMetadata();
    expect(metadata.introspection_endpoint).toBe(`${app.server.url}/token/introspection`);
    expect(metadata.revocation_endpoint).toBe(`${app.server.url}/token/revocation`);
    expect(metadata.pushed_authorization_request_endpoint).toBe(`${app.server.url}/request`);
    expect(metadata.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
    expect(metadata.grant_types_supported).not.toContain('implicit');
  });
});

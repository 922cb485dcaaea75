import { describe, expect, test } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { useTestApp } from '../support/app-fixture.ts';
import {
  allowConsent,
  newAccount,
  openAuthorization,
  RelyingParty,
  RP_REDIRECT_URI,
  registerFrom,
  rpClient,
} from '../support/relying-party.ts';
import { expectPage, expectRedirect, UserAgent } from '../support/user-agent.ts';

const API = 'https://api.example.test';
/** A second API whose operator gave it a name and plain words for its scopes, in two languages. */
const NAMED_API = 'https://calendar.example.test';

/** Access tokens for a registered API (RFC 8707) are JWTs (RFC 9068) the API verifies offline. */
describe('resource indicators and JWT access tokens', () => {
  // Each client is registered for the APIs and scopes it may get tokens for (resource_scopes).
  const client = rpClient({
    resource_scopes: [
      { indicator: API, scopes: ['orders:read', 'orders:write'] },
      { indicator: NAMED_API, scopes: ['calendar:read'] },
    ],
  });
  /** A service (client credentials only) registered for these scopes of the first API. */
  const serviceFor = (clientId: string, scopes: string[]) =>
    rpClient({
      client_id: clientId,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      resource_scopes: [{ indicator: API, scopes }],
    });
  const service = serviceFor('batch-job', ['orders:write']);
  /** Registered for the first API's read scope only. */
  const reader = serviceFor('order-reader', ['orders:read']);
  /** A web app registered for the first API's read scope only. */
  const limited = rpClient({ client_id: 'limited-web', resource_scopes: [{ indicator: API, scopes: ['orders:read'] }] });
  /** A single-page app registered for no API at all. */
  const spa = rpClient({ client_id: 'spa', token_endpoint_auth_method: 'none', client_secret: undefined });
  const app = useTestApp('resources', {
    clients: () => [client, service, reader, limited, spa],
    env: {
      IDP_RESOURCES: JSON.stringify([
        { indicator: API, scopes: ['orders:read', 'orders:write'], accessTokenTtl: 600 },
        {
          indicator: NAMED_API,
          scopes: ['calendar:read'],
          name: { en: 'your calendar', de: 'Ihren Kalender' },
          scopeDescriptions: { 'calendar:read': { en: 'see your appointments', de: 'Ihre Termine sehen' } },
        },
      ]),
    },
    relyingParty: client,
  });

  test('a token asked for with resource= is a JWT for that API, verifiable with /jwks; consent names the API', async () => {
    const agent = new UserAgent();
    const authorization = await app.rp.authorize({ resource: API, scope: 'openid orders:read' });
    const consent = expectPage(await registerFrom(agent, await openAuthorization(agent, authorization), newAccount('api')));
    expect(consent.$('ul.scopes').text()).toContain(`Use ${API} on your behalf: orders:read`);
    const callback = await allowConsent(agent, consent);
    const tokens = await oidc.authorizationCodeGrant(
      app.rp.config,
      callback,
      { pkceCodeVerifier: authorization.codeVerifier, expectedState: authorization.state, expectedNonce: authorization.nonce },
      { resource: API },
    );
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL('/jwks', app.server.url)), {
      issuer: app.server.url,
      audience: API,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ client_id: client.client_id, scope: 'orders:read', sub: tokens.claims()?.sub });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
  });

  test('consent describes an API in the words its operator configured, in the page language', async () => {
    for (const [locale, expected] of [
      ['en', 'Use your calendar on your behalf: see your appointments'],
      ['de', 'Ihren Kalender in Ihrem Namen zu nutzen: Ihre Termine sehen'],
    ] as const) {
      const agent = new UserAgent();
      const authorization = await app.rp.authorize({ resource: NAMED_API, scope: 'openid calendar:read', ui_locales: locale });
      const consent = expectPage(await registerFrom(agent, await openAuthorization(agent, authorization), newAccount('calendar')));
      expect(consent.$('ul.scopes li').last().text()).toBe(expected);
    }
  });

  test('without a resource the access token stays opaque', async () => {
    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    const consent = expectPage(await registerFrom(agent, await openAuthorization(agent, authorization), newAccount('opaque')));
    const tokens = await app.rp.exchange(authorization, await allowConsent(agent, consent));
    expect(tokens.access_token.split('.')).toHaveLength(1);
  });

  test('client credentials (service to service): a JWT for the API with resource=, an opaque token without', async () => {
    const batch = await RelyingParty.discover(app.server.url, service);
    const forApi = await oidc.clientCredentialsGrant(batch.config, { scope: 'orders:write', resource: API });
    const { payload } = await jwtVerify(forApi.access_token, createRemoteJWKSet(new URL('/jwks', app.server.url)), {
      issuer: app.server.url,
      audience: API,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ client_id: 'batch-job', scope: 'orders:write' });
    expect(payload.sub).toBe('batch-job');

    const opaque = await oidc.clientCredentialsGrant(batch.config, {});
    expect(opaque.access_token.split('.')).toHaveLength(1);
    expect(await oidc.tokenIntrospection(batch.config, opaque.access_token)).toMatchObject({ active: true, client_id: 'batch-job' });
  });

  test('an unknown resource is refused with invalid_target', async () => {
    const denied = expectRedirect(
      await new UserAgent().get((await app.rp.authorize({ resource: 'https://unknown.example' })).url, RP_REDIRECT_URI),
    );
    expect(denied.searchParams.get('error')).toBe('invalid_target');
  });

  test('deny by default: a client not registered for an API gets invalid_target, a public app included', async () => {
    const spaRp = await RelyingParty.discover(app.server.url, spa);
    for (const [relyingParty, resource] of [
      [spaRp, API],
      [spaRp, NAMED_API],
    ] as const) {
      const denied = expectRedirect(
        await new UserAgent().get((await relyingParty.authorize({ resource, scope: 'openid' })).url, RP_REDIRECT_URI),
      );
      expect(denied.searchParams.get('error')).toBe('invalid_target');
    }
    const readerRp = await RelyingParty.discover(app.server.url, reader);
    await expect(oidc.clientCredentialsGrant(readerRp.config, { resource: NAMED_API })).rejects.toMatchObject({ error: 'invalid_target' });
    const batch = await RelyingParty.discover(app.server.url, service);
    await expect(oidc.clientCredentialsGrant(batch.config, { scope: 'calendar:read', resource: NAMED_API })).rejects.toMatchObject({
      error: 'invalid_target',
    });
  });

  test('a scope of the API the client is not registered for is refused with invalid_scope; the registered ones are granted', async () => {
    const readerRp = await RelyingParty.discover(app.server.url, reader);
    await expect(oidc.clientCredentialsGrant(readerRp.config, { scope: 'orders:write', resource: API })).rejects.toMatchObject({
      error: 'invalid_scope',
    });
    await expect(oidc.clientCredentialsGrant(readerRp.config, { scope: 'orders:read orders:write', resource: API })).rejects.toMatchObject({
      error: 'invalid_scope',
    });
    const granted = await oidc.clientCredentialsGrant(readerRp.config, { scope: 'orders:read', resource: API });
    const { payload } = await jwtVerify(granted.access_token, createRemoteJWKSet(new URL('/jwks', app.server.url)), {
      issuer: app.server.url,
      audience: API,
      typ: 'at+jwt',
    });
    expect(payload.scope).toBe('orders:read');
  });

  test('at the authorization endpoint, a scope the app is not registered for is refused before anyone is asked', async () => {
    const limitedRp = await RelyingParty.discover(app.server.url, limited);
    const denied = expectRedirect(
      await new UserAgent().get((await limitedRp.authorize({ resource: API, scope: 'openid orders:write' })).url, RP_REDIRECT_URI),
    );
    expect(denied.searchParams.get('error')).toBe('invalid_scope');
  });

  test('a client registered for an API that is not configured stops the start with one line naming it', async () => {
    const stale = rpClient({ client_id: 'stale', resource_scopes: [{ indicator: 'https://gone.example.test', scopes: ['x'] }] });
    await expect(app.start({ clients: () => [stale] })).rejects.toThrow(
      'clientsFile (IDP_CLIENTS_FILE): client "stale": unknown API "https://gone.example.test" in resource_scopes; IDP_RESOURCES configures none',
    );
  });
});

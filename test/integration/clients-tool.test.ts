import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, jest, test } from '@jest/globals';
import { exportJWK, generateKeyPair } from 'jose';
import mongoose from 'mongoose';
import * as oidc from 'openid-client';
import { generateKeySet, type KeySet } from '../../src/oidc/keys.ts';
import { useTestApp } from '../support/app-fixture.ts';
import { runTool } from '../support/cli.ts';
import { eventually } from '../support/eventually.ts';
import {
  allowConsent,
  newAccount,
  openAuthorization,
  RelyingParty,
  RP_REDIRECT_URI,
  registerAndConsent,
  registerFrom,
} from '../support/relying-party.ts';
import { isSetupPage } from '../support/second-factors.ts';
import { expectPage, UserAgent } from '../support/user-agent.ts';

interface Created {
  client: { clientId: string; metadata: Record<string, unknown> };
  clientSecret?: string;
}

/** The server's client cache lifetime (s) in this file. */
const CACHE_TTL = 2;
/** An API the server issues JWT access tokens for; clients get them only when registered for it. */
const API = 'https://orders.tool.test';
const RESOURCES = JSON.stringify([{ indicator: API, scopes: ['orders:read', 'orders:write'] }]);

/** `npm run clients`, run as a process against the MongoDB of a running server. */
// Each test runs the tool as several processes, each a Node start-up and a database connection; on
// a loaded 2-core machine a dozen of them can pass jest's default 30 s.
jest.setTimeout(120_000);

describe('clients tool', () => {
  let keys: KeySet;
  let env: Record<string, string>;
  const clients = (args: string[], extraEnv: Record<string, string> = {}) => runTool('clients', args, { ...env, ...extraEnv });
  const create = async (args: string[]) => {
    const result = await clients(['create', ...args, '--json']);
    if (result.code !== 0) throw new Error(result.stderr);
    return JSON.parse(result.stdout) as Created;
  };
  const rpFor = (clientId: string, secret?: string) =>
    RelyingParty.discover(app.server.url, { client_id: clientId, client_secret: secret, redirect_uris: [RP_REDIRECT_URI] });

  beforeAll(async () => {
    keys = await generateKeySet();
  });
  // A short client cache, so the test of a change nobody announced can wait out its bound.
  const app = useTestApp('clients-tool', () => ({
    keys,
    env: { IDP_CLIENT_SECRET_KEYS: keys.clientSecretKeys.join(','), IDP_CLIENT_CACHE_TTL: String(CACHE_TTL), IDP_RESOURCES: RESOURCES },
  }));
  beforeAll(() => {
    env = {
      ...app.toolEnv(),
      IDP_CLIENT_SECRET_KEYS: keys.clientSecretKeys.join(','),
      // The tool validates with a provider built like the server's; given keys spare it generating some.
      IDP_JWKS: JSON.stringify(keys.jwks),
      IDP_COOKIE_KEYS: keys.cookieKeys.join(','),
      IDP_RESOURCES: RESOURCES,
    };
  });

  test('a client created by the tool completes the code flow at once; consent shows its logo and home page', async () => {
    const created = await create([
      '--name',
      'Tool App',
      '--redirect-uri',
      RP_REDIRECT_URI,
      '--grant-type',
      'authorization_code',
      '--grant-type',
      'refresh_token',
      '--logo-uri',
      'https://app.example/logo.png',
      '--client-uri',
      'https://app.example/',
    ]);
    expect(created.client.clientId).toMatch(/^tool-app-[0-9a-f]{12}$/);
    expect(created.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const rp = await rpFor(created.client.clientId, created.clientSecret);
    const agent = new UserAgent();
    const authorization = await rp.authorize();
    const loginPage = await openAuthorization(agent, authorization);
    const consentPage = expectPage(await registerFrom(agent, loginPage, newAccount('tool')));
    expect(consentPage.$('img.client-logo').attr('src')).toBe('https://app.example/logo.png');
    expect(consentPage.$('.client-home a').attr('href')).toBe('https://app.example/');
    const callback = await allowConsent(agent, consentPage);
    expect((await rp.exchange(authorization, callback)).access_token).toEqual(expect.any(String));
  });

  test('the secret is stored encrypted: the database holds no usable secret', async () => {
    const created = await create(['--name', 'Sealed', '--redirect-uri', RP_REDIRECT_URI]);
    const connection = await mongoose.createConnection(app.scope.mongodbUri).asPromise();
    try {
      const doc = await connection.collection('clients').findOne({ _id: created.client.clientId as unknown as never });
      expect(JSON.stringify(doc)).not.toContain(created.clientSecret ?? 'missing');
      expect(String(doc?.sealedSecret)).toMatch(/^v1\./);
    } finally {
      await connection.close();
    }
  });

  test('rotate-secret stops the old secret and starts the new one', async () => {
    const created = await create(['--name', 'Rotating', '--grant-type', 'client_credentials']);
    const token = (secret: string) =>
      rpFor(created.client.clientId, secret).then((rp) => oidc.clientCredentialsGrant(rp.config, { scope: 'openid' }));
    await expect(token(created.clientSecret ?? '')).resolves.toMatchObject({ token_type: expect.any(String) });
    const rotated = JSON.parse((await clients(['rotate-secret', created.client.clientId, '--json'])).stdout) as { clientSecret: string };
    await expect(token(created.clientSecret ?? '')).rejects.toMatchObject({ error: 'invalid_client' });
    await expect(token(rotated.clientSecret)).resolves.toMatchObject({ access_token: expect.any(String) });
  });

  test('--api registers a client for an API and its scopes; show lists them; --api none takes the access away', async () => {
    const created = await create(['--name', 'Order reader', '--grant-type', 'client_credentials', '--api', `${API}=orders:read`]);
    const outcome = (scope: string) =>
      rpFor(created.client.clientId, created.clientSecret)
        .then((rp) => oidc.clientCredentialsGrant(rp.config, { scope, resource: API }))
        .then(
          (tokens) => `issued ${tokens.scope}`,
          (error: { error?: string }) => error.error ?? 'failed',
        );
    expect(await outcome('orders:read')).toBe('issued orders:read');
    expect(await outcome('orders:write')).toBe('invalid_scope');
    expect((await clients(['show', created.client.clientId])).stdout).toMatch(new RegExp(`resource_scopes +${API}: orders:read\n`));

    expect((await clients(['update', created.client.clientId, '--api', `${API}=orders:read,orders:write`])).code).toBe(0);
    expect(
      await eventually(
        () => outcome('orders:write'),
        (result) => result !== 'invalid_scope',
        5000,
      ),
    ).toBe('issued orders:write');
    expect((await clients(['update', created.client.clientId, '--api', 'none'])).code).toBe(0);
    expect(
      await eventually(
        () => outcome('orders:read'),
        (result) => result !== 'issued orders:read',
        5000,
      ),
    ).toBe('invalid_target');
    expect((await clients(['show', created.client.clientId])).stdout).not.toContain('resource_scopes');
  });

  test('a change made without REDIS_URL is not announced; servers apply it within IDP_CLIENT_CACHE_TTL', async () => {
    const created = await create(['--name', 'Unannounced', '--grant-type', 'client_credentials']);
    const outcome = () =>
      rpFor(created.client.clientId, created.clientSecret)
        .then((rp) => oidc.clientCredentialsGrant(rp.config, { scope: 'openid' }))
        .then(
          () => 'issued',
          (error: { error?: string }) => error.error ?? 'failed',
        );
    expect(await outcome()).toBe('issued'); // the server has the client cached now
    const { REDIS_URL: _redis, ...withoutRedis } = env;
    const disabled = await runTool('clients', ['disable', created.client.clientId], withoutRedis);
    expect(disabled.stderr).toContain('REDIS_URL is not set');
    const started = Date.now();
    expect(await eventually(outcome, (result) => result === 'invalid_client', (CACHE_TTL + 3) * 1000)).toBe('invalid_client');
    expect(Date.now() - started).toBeLessThanOrEqual((CACHE_TTL + 1) * 1000);
  });

  test('a disabled client gets invalid_client and a clear page in the browser; enable restores it; delete removes it', async () => {
    const created = await create(['--name', 'Toggle', '--redirect-uri', RP_REDIRECT_URI]);
    const rp = await rpFor(created.client.clientId, created.clientSecret);
    const authorization = await rp.authorize();
    const callback = await registerAndConsent(new UserAgent(), authorization, newAccount('toggle'));

    expect((await clients(['disable', created.client.clientId])).stdout).toBe(`Disabled client ${created.client.clientId}\n`);
    await expect(rp.exchange(authorization, callback)).rejects.toMatchObject({ error: 'invalid_client' });
    const page = expectPage(await new UserAgent().get((await rp.authorize()).url));
    expect(page.status).toBe(400);
    expect(page.$('main').text()).toContain('Toggle has been disabled by the administrator of this service');

    await clients(['enable', created.client.clientId]);
    const again = await rp.authorize();
    expect((await rp.exchange(again, await registerAndConsent(new UserAgent(), again, newAccount('enabled')))).access_token).toBeDefined();

    expect((await clients(['delete', created.client.clientId, '--yes'])).code).toBe(0);
    expect((await clients(['show', created.client.clientId])).stderr).toBe(`clients: no client "${created.client.clientId}"\n`);
    expect(expectPage(await new UserAgent().get((await rp.authorize()).url)).status).toBe(400);
  });

  test('apply creates, changes and leaves alone; a second run changes nothing; --dry-run writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idp-apply-'));
    const file = join(dir, 'clients.yaml');
    const write = (name: string) =>
      writeFileSync(
        file,
        [
          'clients:',
          '  - client_id: shop-web',
          `    name: ${name}`,
          `    redirect_uris: [${RP_REDIRECT_URI}]`,
          '    grant_types: [authorization_code, refresh_token]',
          '    secret_env: SHOP_SECRET',
          '  - client_id: shop-spa',
          '    name: Shop SPA',
          '    public: true',
          '    redirect_uris: [http://localhost:5173/callback]',
          '  - client_id: shop-batch',
          '    name: Shop batch',
          '    grant_types: [client_credentials]',
          `    resource_scopes: [{ indicator: "${API}", scopes: [orders:write] }]`,
        ].join('\n'),
      );
    const secretEnv = { SHOP_SECRET: 's'.repeat(40) };
    write('Shop');

    const dry = await clients(['apply', '--file', file, '--dry-run'], secretEnv);
    expect(dry.stdout).toBe(
      ['would create shop-web', 'would create shop-spa', 'would create shop-batch', 'Dry run: nothing was changed.', ''].join('\n'),
    );
    expect((await clients(['list', '--json'])).stdout).not.toContain('shop-web');

    const first = await clients(['apply', '--file', file], secretEnv);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^created {6}shop-web\ncreated {6}shop-spa\ncreated {6}shop-batch {2}secret \(shown once\): \S{43}\nDone\.\n$/,
    );
    const batch = JSON.parse((await clients(['show', 'shop-batch', '--json'])).stdout) as { metadata: Record<string, unknown> };
    expect(batch.metadata.resource_scopes).toEqual([{ indicator: API, scopes: ['orders:write'] }]);
    const second = await clients(['apply', '--file', file], secretEnv);
    expect(second.stdout).toBe(['unchanged    shop-web', 'unchanged    shop-spa', 'unchanged    shop-batch', 'Done.', ''].join('\n'));

    write('Shop (renamed)');
    const changed = await clients(['apply', '--file', file, '--json'], secretEnv);
    expect(JSON.parse(changed.stdout).plan).toEqual([
      { action: 'change', clientId: 'shop-web', fields: ['client_name'] },
      { action: 'unchanged', clientId: 'shop-spa' },
      { action: 'unchanged', clientId: 'shop-batch' },
    ]);
    // The secret from the environment works.
    const rp = await rpFor('shop-web', secretEnv.SHOP_SECRET);
    expect(rp.config.clientMetadata().client_id).toBe('shop-web');
    const auth = await rp.authorize();
    expect((await rp.exchange(auth, await registerAndConsent(new UserAgent(), auth, newAccount('apply')))).access_token).toBeDefined();
  });

  test('every setting round-trips through create, show --json, update and apply; show prints each', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'rt-1', alg: 'ES256', use: 'sig' }] };
    const showJson = async (id: string) =>
      (JSON.parse((await clients(['show', id, '--json'])).stdout) as { metadata: Record<string, unknown> }).metadata;
    const created = await create([
      ...['--name', 'Round trip', '--client-id', 'round-trip', '--redirect-uri', RP_REDIRECT_URI],
      ...[
        '--post-logout-redirect-uri',
        'https://rp.example.test/bye',
        '--grant-type',
        'authorization_code',
        '--grant-type',
        'refresh_token',
      ],
      ...['--auth-method', 'private_key_jwt', '--jwks', JSON.stringify(jwks), '--api', `${API}=orders:read`],
      ...['--backchannel-logout-uri', 'https://rp.example.test/backchannel', '--backchannel-logout-session-required'],
      ...['--require-par', '--first-party'],
    ]);
    expect(created.clientSecret).toBeUndefined(); // private_key_jwt: no secret
    const everything = {
      client_name: 'Round trip',
      redirect_uris: [RP_REDIRECT_URI],
      post_logout_redirect_uris: ['https://rp.example.test/bye'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
      resource_scopes: [{ indicator: API, scopes: ['orders:read'] }],
      backchannel_logout_uri: 'https://rp.example.test/backchannel',
      backchannel_logout_session_required: true,
      require_pushed_authorization_requests: true,
      first_party: true,
    };
    expect(await showJson('round-trip')).toEqual({ ...everything, response_types: ['code'] });
    const shown = (await clients(['show', 'round-trip'])).stdout;
    for (const line of [
      /\nfirst_party +yes\n/,
      /\ntoken_endpoint_auth_method +private_key_jwt\n/,
      /\njwks +1 key: rt-1 \(EC\)\n/,
      /\nbackchannel_logout_uri +https:\/\/rp\.example\.test\/backchannel\n/,
      /\nbackchannel_logout_session_required +true\n/,
      /\nrequire_pushed_authorization_requests +true\n/,
      /\npost_logout_redirect_uris +https:\/\/rp\.example\.test\/bye\n/,
    ])
      expect(shown).toMatch(line);

    // apply with the same settings changes nothing; the file names them as client metadata.
    const dir = mkdtempSync(join(tmpdir(), 'idp-roundtrip-'));
    const file = join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify({ clients: [{ client_id: 'round-trip', ...everything }] }));
    expect((await clients(['apply', '--file', file])).stdout).toBe('unchanged    round-trip\nDone.\n');

    // update turns each off, or moves it; a secret-using method gets a secret (printed once), and the keys go.
    const updated = await clients([
      ...['update', 'round-trip', '--auth-method', 'client_secret_post', '--no-require-par', '--no-first-party'],
      ...['--backchannel-logout-uri', 'none', '--post-logout-redirect-uri', 'none', '--api', 'none', '--json'],
    ]);
    expect(updated.stderr).toBe('');
    expect(JSON.parse(updated.stdout)).toMatchObject({ clientSecret: expect.stringMatching(/^\S{43}$/) });
    const after = await showJson('round-trip');
    expect(after).toEqual({
      client_name: 'Round trip',
      redirect_uris: [RP_REDIRECT_URI],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    // apply brings them all back, as the file says.
    const reapplied = await clients(['apply', '--file', file, '--json']);
    expect(JSON.parse(reapplied.stdout).plan).toEqual([
      {
        action: 'change',
        clientId: 'round-trip',
        fields: expect.arrayContaining([
          'post_logout_redirect_uris',
          'token_endpoint_auth_method',
          'jwks',
          'resource_scopes',
          'backchannel_logout_uri',
          'require_pushed_authorization_requests',
          'first_party',
          'client_secret',
        ]),
      },
    ]);
    expect(await showJson('round-trip')).toEqual({ ...everything, response_types: ['code'] });
  });

  test('each bad input exits non-zero with one line and writes nothing', async () => {
    const before = (await clients(['list', '--json'])).stdout;
    const cases: Array<[string[], number, RegExp]> = [
      [['create', '--name', 'x', '--redirect-uri', '/callback'], 1, /^clients: redirect URI "\/callback" is not an absolute URL$/],
      [['create', '--name', 'x', '--redirect-uri', 'https://a.example/cb#frag'], 1, /must not contain a fragment/],
      [
        ['create', '--name', 'x', '--redirect-uri', 'http://a.example/cb'],
        1,
        /must use https \(plain http is only allowed for localhost\)/,
      ],
      [
        ['create', '--name', 'x', '--redirect-uri', RP_REDIRECT_URI, '--grant-type', 'password'],
        1,
        /^clients: unknown grant type "password"; use authorization_code, refresh_token, client_credentials$/,
      ],
      [['create', '--name', 'x', '--public', '--grant-type', 'client_credentials'], 1, /a public client cannot use client_credentials/],
      [['show', 'no-such-client'], 1, /^clients: no client "no-such-client"$/],
      [['rotate-secret', 'no-such-client'], 1, /^clients: no client "no-such-client"$/],
      [['create'], 2, /^clients: create needs --name$/],
      [['frobnicate'], 2, /^clients: unknown command/],
      [['apply', '--file', '/no/such/file.json'], 1, /^clients: cannot read \/no\/such\/file\.json$/],
      [
        ['create', '--name', 'x', '--grant-type', 'client_credentials', '--api', 'https://other.test=orders:read'],
        1,
        /^clients: unknown API "https:\/\/other\.test" in resource_scopes; IDP_RESOURCES has https:\/\/orders\.tool\.test$/,
      ],
      [
        ['create', '--name', 'x', '--grant-type', 'client_credentials', '--api', `${API}=orders:delete`],
        1,
        /^clients: the API https:\/\/orders\.tool\.test has no scope "orders:delete"; it has orders:read, orders:write$/,
      ],
      [['create', '--name', 'x', '--redirect-uri', RP_REDIRECT_URI, '--auth-method', 'private_key_jwt'], 1, /needs its public keys/],
      [['create', '--name', 'x', '--redirect-uri', RP_REDIRECT_URI, '--auth-method', 'magic'], 2, /^clients: --auth-method must be one of/],
      [
        ['create', '--name', 'x', '--redirect-uri', RP_REDIRECT_URI, '--backchannel-logout-session-required'],
        1,
        /^clients: the logout session flag needs a --backchannel-logout-uri$/,
      ],
      [
        ['create', '--name', 'x', '--grant-type', 'client_credentials', '--api', API],
        2,
        /^clients: --api needs URL=SCOPE\[,SCOPE\.\.\.\], got "https:\/\/orders\.tool\.test"$/,
      ],
    ];
    for (const [args, code, message] of cases) {
      const result = await clients(args);
      expect({ args, code: result.code, lines: result.stderr.trim().split('\n').length }).toEqual({ args, code, lines: 1 });
      expect(result.stderr.trimEnd()).toMatch(message);
    }
    expect((await clients(['list', '--json'])).stdout).toBe(before);

    const unreachable = await clients(['list'], { MONGODB_URI: 'mongodb://127.0.0.1:9/x' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^clients: cannot connect to MongoDB at mongodb:\/\/127\.0\.0\.1:9\/x /);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('--mfa required: a sign-in to the app needs a second factor (a new person sets one up); --mfa optional lifts it', async () => {
    const created = await create(['--name', 'Strict Tool App', '--redirect-uri', RP_REDIRECT_URI, '--mfa', 'required']);
    expect(created.client.metadata.require_mfa).toBe(true);
    const rp = await rpFor(created.client.clientId, created.clientSecret);
    const firstPageAfterRegistration = async () => {
      const agent = new UserAgent();
      return expectPage(await registerFrom(agent, await openAuthorization(agent, await rp.authorize()), newAccount('strict')));
    };
    expect(isSetupPage(await firstPageAfterRegistration())).toBe(true);

    const wrong = await clients(['update', created.client.clientId, '--mfa', 'sometimes']);
    expect({ code: wrong.code, stderr: wrong.stderr.trim() }).toEqual({
      code: 2,
      stderr: 'clients: --mfa takes required or optional, got "sometimes"',
    });
    const lifted = JSON.parse((await clients(['update', created.client.clientId, '--mfa', 'optional', '--json'])).stdout) as Created;
    expect(lifted.client.metadata.require_mfa).toBeUndefined();
    // The change is announced to the server at once; the next sign-in goes straight on to consent.
    await eventually(firstPageAfterRegistration, (page) => page.$('form[action$="/confirm"]').length > 0, 5000);
  });
});

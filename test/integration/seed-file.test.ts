import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { freePort } from '../../scripts/lib/local-services.ts';
import { eventually } from '../support/eventually.ts';
import { authorizeAs, RelyingParty } from '../support/relying-party.ts';
import { runServerToExit, type ServerProcess, spawnServer, waitUntilReady } from '../support/server-process.ts';
import { startTestApp } from '../support/test-app.ts';
import { UserAgent } from '../support/user-agent.ts';

/** The seed file of the issue that asked for it, exactly as written there: it must work as it is. */
const EXAMPLE = `clients:
  - client_id: shop
    client_secret: shop-secret-for-tests-only-0123456789
    redirect_uris: [http://localhost:8080/callback]
    grant_types: [authorization_code, refresh_token, client_credentials]
    scope: openid profile email groups offline_access
  - client_id: spa
    token_endpoint_auth_method: none
    redirect_uris: [http://localhost:5173/callback]
users:
  - username: alice
    email: alice@example.com
    verified: true
    name: Alice Example
    password: alice-password-for-tests
    groups: [admins, staff]
    claims: { department: engineering }
`;

const dir = mkdtempSync(join(tmpdir(), 'idp-seed-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** The README's seed file: the example above, with the profile scope also releasing the department claim. */
const README_SEED = fileURLToPath(new URL('../../examples/seed.yaml', import.meta.url));

/** Signs alice in through `client` (a RelyingParty of the seed's clients) and returns her ID token claims and userinfo. */
async function signInAlice(rp: RelyingParty, redirectUri: string, scope: string, prompt = 'login') {
  const authorization = await rp.authorize({ redirect_uri: redirectUri, scope, prompt });
  const { callback } = await authorizeAs(
    new UserAgent(),
    authorization.url,
    { login: 'alice', password: 'alice-password-for-tests' },
    {},
    redirectUri,
  );
  const tokens = await oidc.authorizationCodeGrant(rp.config, callback, {
    pkceCodeVerifier: authorization.codeVerifier,
    expectedState: authorization.state,
    expectedNonce: authorization.nonce,
  });
  return { tokens, idToken: tokens.claims(), userinfo: await rp.userinfo(tokens.access_token, tokens.claims()?.sub ?? '') };
}

describe('the seed file exactly as the issue wrote it', () => {
  test('signs alice in through shop with its fixed secret; her groups are in the ID token and userinfo', async () => {
    const app = await startTestApp({ env: { IDP_SEED_FILE: file('example.yaml', EXAMPLE) } });
    try {
      expect(app.stores.kinds).toEqual({ users: 'memory', oidc: 'memory' });
      const rp = await RelyingParty.discover(app.url, { client_id: 'shop', client_secret: 'shop-secret-for-tests-only-0123456789' });
      const { tokens, idToken, userinfo } = await signInAlice(
        rp,
        'http://localhost:8080/callback',
        'openid profile email groups offline_access',
        // offline_access needs a consent screen for an app that is not first-party (OpenID Connect Core §11).
        'consent',
      );
      const expected = {
        preferred_username: 'alice',
        name: 'Alice Example',
        email: 'alice@example.com',
        email_verified: true,
        groups: ['admins', 'staff'],
      };
      expect(idToken).toMatchObject(expected);
      expect(userinfo).toMatchObject(expected);
      expect(tokens.refresh_token).toEqual(expect.any(String));
      // No scope is tied to department in this file (claim_scopes, IDP_CLAIM_SCOPES): it stays on the account.
      expect(userinfo).not.toHaveProperty('department');
      expect((await oidc.clientCredentialsGrant(rp.config)).access_token).toEqual(expect.any(String));
    } finally {
      await app.close();
    }
  });
});

/** `npm start` with IDP_SEED_FILE: the embedded mode serves the file's clients and users instead of the demo user. */
describe("the README's seed file in the embedded mode (the server as a process)", () => {
  let server: ServerProcess;
  let issuer: string;

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://localhost:${port}`;
    server = spawnServer({ PORT: String(port), IDP_SEED_FILE: README_SEED });
    await waitUntilReady(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('the banner names the seed file instead of a demo user, and the start is reported in one log line', async () => {
    // The log lines are written through pino's buffered stream and may reach the pipe after the banner.
    const { stdout } = await eventually(
      async () => server.output(),
      (output) => output.stdout.includes('"event":"seed.applied"') && output.stdout.includes('Users:'),
      5000,
    );
    expect(stdout).toContain('Users:         those of the seed file (IDP_SEED_FILE)');
    expect(stdout).not.toContain('Demo user:');
    const seeded = stdout.split('\n').filter((line) => line.includes('"event":"seed.applied"'));
    expect(seeded).toHaveLength(1);
    expect(JSON.parse(seeded[0] ?? '{}')).toMatchObject({
      clients: { created: ['shop', 'spa'], present: [] },
      users: { created: ['alice'], present: [] },
    });
  });

  test('the confidential client signs alice in; her groups and department are in the ID token and userinfo', async () => {
    const rp = await RelyingParty.discover(issuer, { client_id: 'shop', client_secret: 'shop-secret-for-tests-only-0123456789' });
    const { idToken, userinfo } = await signInAlice(rp, 'http://localhost:8080/callback', 'openid profile groups');
    const expected = { preferred_username: 'alice', name: 'Alice Example', groups: ['admins', 'staff'], department: 'engineering' };
    expect(idToken).toMatchObject(expected);
    expect(userinfo).toMatchObject(expected);
  });

  test('the public client signs in with PKCE alone', async () => {
    const rp = await RelyingParty.discover(issuer, { client_id: 'spa' }, { auth: oidc.None() });
    const { idToken } = await signInAlice(rp, 'http://localhost:5173/callback', 'openid');
    expect(idToken?.sub).toEqual(expect.any(String));
  });
});

describe('a bad seed file', () => {
  test('stops the start with one line per problem, each naming its path in the file', async () => {
    const bad = file(
      'bad.yaml',
      [
        'clients:',
        '  - client_id: shop',
        '    redirect_uri: [http://localhost:8080/callback]',
        '  - client_id: s',
        '    token_endpoint_auth_method: none',
        '    client_secret: a-secret-for-a-public-client-0123456789',
        'users:',
        '  - username: alice',
        '    email: not-an-email',
        '    password: alice-password-for-tests',
        '  - username: bob',
        '    email: bob@example.com',
        '    claims: { sub: someone-else }',
      ].join('\n'),
    );
    const result = await runServerToExit({ PORT: String(await freePort()), IDP_SEED_FILE: bad });
    expect(result.code).toBe(1);
    const where = `seedFile (IDP_SEED_FILE): ${bad}`;
    expect(result.stderr.trim().split('\n')).toEqual([
      `${where}: clients[0]: unknown field "redirect_uri"`,
      `${where}: clients[1].client_id: must be 3 to 64 letters, digits, dot, underscore or hyphen`,
      `${where}: clients[1].client_secret: a client using none has no secret`,
      `${where}: users[0].email: must be an email address such as alice@example.com`,
      `${where}: users[1].claims.sub: "sub" is a claim the server sets itself; choose another name`,
      `${where}: users[1].password: give a password or a password_hash (one of them)`,
    ]);
  });

  test('a password the policy refuses and a client our rules refuse are named too, and nothing starts', async () => {
    const bad = file(
      'policy.json',
      JSON.stringify({
        clients: [{ client_id: 'web', client_secret: 'w'.repeat(40), redirect_uris: ['http://example.com/callback'] }],
        users: [{ username: 'carol', email: 'carol@example.com', password: 'short' }],
      }),
    );
    const result = await runServerToExit({ PORT: String(await freePort()), IDP_SEED_FILE: bad });
    expect(result.code).toBe(1);
    const where = `seedFile (IDP_SEED_FILE): ${bad}`;
    expect(result.stderr.trim().split('\n')).toEqual([
      `${where}: users[0].password: Use at least 15 characters. A few unrelated words make a strong, memorable password.`,
      `${where}: clients[0].redirect_uris: redirect URI "http://example.com/callback" must use https (plain http is only allowed for localhost)`,
    ]);
  });
});

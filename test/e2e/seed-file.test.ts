import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import YAML from 'yaml';
import { generateKeySet } from '../../src/oidc/keys.ts';
import { createPasswordHasher } from '../../src/users/password-hasher.ts';
import { useTestApp } from '../support/app-fixture.ts';
import { authorizeAs, RelyingParty } from '../support/relying-party.ts';
import { UserAgent } from '../support/user-agent.ts';

const REDIRECT_URI = 'https://app.seed.test/callback';
const SECRET = 'web-secret-for-tests-only-0123456789abcdef';
const BOB_PASSWORD = 'bob has a long and hashed passphrase';

/**
 * The seed file against MongoDB and Redis: a confidential client with a fixed secret, a public
 * client, a private_key_jwt client and two users with groups and extra claims, applied at start
 * when missing and left alone when present.
 */
describe('seed file with MongoDB and Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-seed-e2e-'));
  const seedPath = join(dir, 'seed.yaml');
  let signingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let secretKeys: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    signingKey = pair.privateKey;
    secretKeys = (await generateKeySet()).clientSecretKeys.join(',');
    const bobHash = await createPasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 }).hash(BOB_PASSWORD);
    const seed = {
      claim_scopes: { profile: ['department'], hr: ['employee_id'] },
      clients: [
        {
          client_id: 'web',
          client_name: 'Web',
          client_secret: SECRET,
          redirect_uris: [REDIRECT_URI],
          scope: 'openid profile email groups hr',
        },
        { client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT_URI] },
        {
          client_id: 'backend',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'backend-1', alg: 'ES256', use: 'sig' }] },
          redirect_uris: [REDIRECT_URI],
          grant_types: ['authorization_code', 'client_credentials'],
        },
      ],
      users: [
        {
          username: 'alice',
          email: 'alice@example.com',
          verified: true,
          name: 'Alice Example',
          password: 'alice-password-for-tests',
          groups: ['admins', 'staff'],
          claims: { department: 'engineering', employee_id: 1001 },
        },
        {
          username: 'bob',
          email: 'Bob@Example.com',
          password_hash: bobHash,
          groups: ['staff'],
          claims: { department: 'sales', employee_id: 1002 },
        },
      ],
    };
    writeFileSync(seedPath, YAML.stringify(seed));
  });

  const app = useTestApp('e2e-seed', () => ({
    env: { IDP_SEED_FILE: seedPath, IDP_CLIENT_SECRET_KEYS: secretKeys },
    logLines,
  }));

  const signIn = async (rp: RelyingParty, login: string, password: string, scope: string) => {
    const authorization = await rp.authorize({ redirect_uri: REDIRECT_URI, scope, prompt: 'login' });
    const { callback } = await authorizeAs(new UserAgent(), authorization.url, { login, password }, {}, REDIRECT_URI);
    const tokens = await oidc.authorizationCodeGrant(rp.config, callback, {
      pkceCodeVerifier: authorization.codeVerifier,
      expectedState: authorization.state,
      expectedNonce: authorization.nonce,
    });
    const sub = tokens.claims()?.sub ?? '';
    return { idToken: tokens.claims(), userinfo: await rp.userinfo(tokens.access_token, sub) };
  };

  test('openid-client signs in as each user with the confidential client and sees their claims in the ID token and userinfo', async () => {
    const rp = await RelyingParty.discover(app.server.url, { client_id: 'web', client_secret: SECRET });
    const scope = 'openid profile email groups hr';
    const alice = await signIn(rp, 'alice', 'alice-password-for-tests', scope);
    const aliceClaims = {
      preferred_username: 'alice',
      name: 'Alice Example',
      email_verified: true,
      groups: ['admins', 'staff'],
      department: 'engineering',
      employee_id: 1001,
    };
    expect(alice.idToken).toMatchObject(aliceClaims);
    expect(alice.userinfo).toMatchObject(aliceClaims);
    const bob = await signIn(rp, 'bob@example.com', BOB_PASSWORD, scope);
    const bobClaims = {
      preferred_username: 'bob',
      email: 'bob@example.com',
      email_verified: false,
      groups: ['staff'],
      department: 'sales',
      employee_id: 1002,
    };
    expect(bob.idToken).toMatchObject(bobClaims);
    expect(bob.userinfo).toMatchObject(bobClaims);
  });

  test('the public client signs in with PKCE alone; the private_key_jwt client with its signed assertion', async () => {
    const spa = await RelyingParty.discover(app.server.url, { client_id: 'spa' }, { auth: oidc.None() });
    expect((await signIn(spa, 'alice', 'alice-password-for-tests', 'openid groups')).idToken).toMatchObject({
      groups: ['admins', 'staff'],
    });

    const backend = await RelyingParty.discover(app.server.url, { client_id: 'backend' }, { auth: oidc.PrivateKeyJwt(signingKey) });
    expect((await signIn(backend, 'bob', BOB_PASSWORD, 'openid profile')).idToken).toMatchObject({ department: 'sales' });
    expect((await oidc.clientCredentialsGrant(backend.config)).access_token).toEqual(expect.any(String));
    // Without the assertion the client is refused: the secret-less client has no other way in.
    const unsigned = await RelyingParty.discover(app.server.url, { client_id: 'backend', client_secret: 'x'.repeat(43) });
    await expect(oidc.clientCredentialsGrant(unsigned.config)).rejects.toMatchObject({ error: 'invalid_client' });
  });

  test('a second start applies the file again: what is present is left alone, including changes made since', async () => {
    await app.server.users.admin.addGroups('alice', ['ops']);
    await app.server.users.admin.setPassword('bob', 'bob changed his passphrase since the seed');
    logLines.length = 0;
    const again = await app.start({ env: { IDP_SEED_FILE: seedPath, IDP_CLIENT_SECRET_KEYS: secretKeys }, logLines });
    const seeded = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.event === 'seed.applied');
    expect(seeded).toHaveLength(1);
    expect(seeded[0]).toMatchObject({
      clients: { created: [], present: ['web', 'spa', 'backend'], differing: [] },
      users: { created: [], present: ['alice', 'bob'] },
      msg: expect.stringMatching(/: created 0 clients and 0 users; 3 clients and 2 users were present and left alone$/),
    });
    expect((await again.users.admin.find('alice')).groups).toEqual(['admins', 'staff', 'ops']);
    const bob = await again.users.userService.authenticate('bob', 'bob changed his passphrase since the seed', '192.0.2.1');
    expect(bob.ok).toBe(true);
  });
});

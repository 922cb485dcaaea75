import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { freePort } from '../../scripts/lib/local-services.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { runServerToExit, spawnServer, waitUntilReady } from '../support/server-process.ts';

const SECRET = 'shop-secret-for-tests-only-0123456789';

/** Starts `npm start` with `env`, hands it to `use`, and stops it (a restart is two of these). */
async function run<T>(env: Record<string, string>, use: (url: string, output: () => string) => Promise<T>): Promise<T> {
  const port = await freePort();
  const server = spawnServer({ PORT: String(port), ...env });
  try {
    await waitUntilReady(server);
    return await use(`http://localhost:${port}`, () => server.output().stdout);
  } finally {
    await server.stop();
  }
}

const jwksOf = async (url: string) => (await (await fetch(`${url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
const bannerValue = (stdout: string, label: string) =>
  stdout
    .split('\n')
    .find((line) => line.trimStart().startsWith(label))
    ?.split(label)[1]
    ?.trim();

/** IDP_DATA_DIR keeps the keys a development server makes, so what an app holds survives a restart. */
describe('IDP_DATA_DIR', () => {
  const scope = isolation('data-dir');
  afterAll(() => dropIsolation(scope));

  test('the embedded mode keeps its signing keys and the demo secret across a restart, in a private file', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'idp-data-')), 'data');
    const first = await run({ IDP_DATA_DIR: dataDir }, async (url, stdout) => ({
      jwks: await jwksOf(url),
      secret: bannerValue(stdout(), 'Client secret:'),
      log: stdout(),
    }));
    const second = await run({ IDP_DATA_DIR: dataDir }, async (url, stdout) => ({
      jwks: await jwksOf(url),
      secret: bannerValue(stdout(), 'Client secret:'),
      log: stdout(),
    }));
    expect(first.secret).toMatch(/^\S{32,}$/);
    expect(second.secret).toBe(first.secret);
    expect(second.jwks.keys.map((key) => key.kid)).toEqual(first.jwks.keys.map((key) => key.kid));
    expect(first.log).toContain(`using the keys kept in ${join(dataDir, 'keys.json')} (made now; development only)`);
    expect(second.log).toContain('(made at an earlier start; development only)');
    expect(statSync(join(dataDir, 'keys.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  test("with MongoDB, a seed client's fixed secret, stored encrypted under the kept key, still works after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idp-data-'));
    const seedFile = join(dir, 'seed.yaml');
    writeFileSync(seedFile, `clients:\n  - client_id: shop\n    client_secret: ${SECRET}\n    grant_types: [client_credentials]\n`);
    const env = {
      MONGODB_URI: scope.mongodbUri,
      REDIS_URL: scope.redisUrl,
      IDP_REDIS_KEY_PREFIX: scope.redisKeyPrefix,
      IDP_SEED_FILE: seedFile,
      IDP_DATA_DIR: join(dir, 'data'),
    };
    const tokenWithSecret = async (url: string) => {
      const rp = await RelyingParty.discover(url, { client_id: 'shop', client_secret: SECRET });
      return (await oidc.clientCredentialsGrant(rp.config)).token_type;
    };
    const seeded = (stdout: string) => stdout.split('\n').find((line) => line.includes('"event":"seed.applied"')) ?? '';
    const first = await run(env, async (url, stdout) => ({ token: await tokenWithSecret(url), seeded: seeded(stdout()) }));
    expect(first).toMatchObject({ token: expect.stringMatching(/^bearer$/i), seeded: expect.stringContaining('"created":["shop"]') });
    const second = await run(env, async (url, stdout) => ({ token: await tokenWithSecret(url), seeded: seeded(stdout()) }));
    expect(second).toMatchObject({ token: expect.stringMatching(/^bearer$/i), seeded: expect.stringContaining('"present":["shop"]') });

    // Without a kept or configured key, a secret could not be read back after a restart: the start says so.
    const { IDP_DATA_DIR: _kept, ...withoutDataDir } = env;
    const refused = await runServerToExit({ PORT: String(await freePort()), ...withoutDataDir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'clientSecretKeys (IDP_CLIENT_SECRET_KEYS): the seed file has clients with secrets, and storing them needs this key (npm run keys makes one; in development IDP_DATA_DIR keeps one)\n',
    );
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { freePort } from '../../scripts/lib/local-services.ts';
import { generateKeySet } from '../../src/oidc/keys.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import {
  newAccount,
  openAuthorization,
  RelyingParty,
  RP_REDIRECT_URI,
  registerAndConsent,
  rpClient,
  signInFrom,
} from '../support/relying-party.ts';
import { type ServerProcess, spawnServer, waitUntilReady } from '../support/server-process.ts';
import { expectPage, expectRedirect, UserAgent } from '../support/user-agent.ts';

/**
 * The data lives in the real stores, not in the process: after a restart of `node src/main.ts` on
 * the same Redis and MongoDB (and the same configured keys), users, sessions and tokens still work.
 */
describe('restart on the same Redis and MongoDB', () => {
  const scope = isolation('e2e-restart');
  const client = rpClient();
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let issuer: string;

  const start = async () => {
    server = spawnServer(env);
    await waitUntilReady(server);
  };

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    const keys = await generateKeySet();
    const clientsFile = join(mkdtempSync(join(tmpdir(), 'idp-restart-')), 'clients.json');
    writeFileSync(clientsFile, JSON.stringify([client]));
    env = {
      PORT: String(port),
      ISSUER: issuer,
      MONGODB_URI: scope.mongodbUri,
      REDIS_URL: scope.redisUrl,
      IDP_REDIS_KEY_PREFIX: scope.redisKeyPrefix,
      IDP_JWKS: JSON.stringify(keys.jwks),
      IDP_COOKIE_KEYS: keys.cookieKeys.join(','),
      IDP_CLIENTS_FILE: clientsFile,
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await dropIsolation(scope);
  });

  test('a user registered and a session created before a restart still work after it', async () => {
    await start();
    const rp = await RelyingParty.discover(issuer, client);
    const browser = new UserAgent();
    const account = newAccount('restart');
    const first = await rp.authorize();
    const tokens = await rp.exchange(first, await registerAndConsent(browser, first, account));
    const sub = tokens.claims()?.sub ?? '';

    expect(await server?.stop('SIGTERM')).toBe(0); // graceful: drains, closes Redis and MongoDB
    await start();

    // The browser's session survived: no login, no consent, straight back with a code.
    const silent = await rp.authorize({ prompt: 'none', scope: 'openid email' });
    const callback = expectRedirect(await browser.get(silent.url, RP_REDIRECT_URI));
    expect(callback.searchParams.get('error')).toBeNull();
    const again = await rp.exchange(silent, callback);
    expect(again.claims()?.sub).toBe(sub);

    // Tokens issued before the restart are still valid.
    expect((await rp.userinfo(tokens.access_token, sub)).email).toBe(account.email);
    expect((await rp.refresh(tokens.refresh_token ?? '')).access_token).toEqual(expect.any(String));

    // A fresh browser can sign in with the password registered before the restart.
    const fresh = new UserAgent();
    const loginPage = await openAuthorization(fresh, await rp.authorize());
    const next = expectPage(await signInFrom(fresh, loginPage, account.username, account.password));
    expect(next.$('h1').text()).toContain('wants to access your account');
  });
});

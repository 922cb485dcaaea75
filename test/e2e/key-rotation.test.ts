import { afterAll, describe, expect, test } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { type Jwks, rotateJwks } from '../../src/oidc/key-rotation.ts';
import { generateKeySet } from '../../src/oidc/keys.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { newAccount, RelyingParty, registerAndConsent, rpClient } from '../support/relying-party.ts';
import { type RunningApp, startTestApp } from '../support/test-app.ts';
import { UserAgent } from '../support/user-agent.ts';

/**
 * The three stages of `npm run rotate-keys`, each deployed as a restart of the same server on the
 * same Redis and MongoDB: no token stops verifying at any point.
 */
describe('signing key rotation without downtime', () => {
  const scope = isolation('key-rotation');
  const client = rpClient();
  let server: RunningApp | undefined;
  afterAll(async () => {
    await server?.close();
    await dropIsolation(scope);
  });

  test('add publishes before signing, promote signs while old tokens verify, retire removes the old key', async () => {
    const base = await generateKeySet();
    let port: number | undefined;
    const deploy = async (jwks: Jwks) => {
      await server?.close();
      server = await startTestApp({ backends: scope, clients: () => [client], keys: { ...base, jwks }, ...(port ? { port } : {}) });
      port = Number(new URL(server.url).port);
      return server;
    };
    const signIn = async (app: RunningApp) => {
      const rp = await RelyingParty.discover(app.url, client);
      const authorization = await rp.authorize();
      const tokens = await rp.exchange(authorization, await registerAndConsent(new UserAgent(), authorization, newAccount('rotate')));
      return { rp, tokens, kid: decodeProtectedHeader(tokens.id_token ?? '').kid };
    };
    const publishedKids = async (app: RunningApp) =>
      ((await (await fetch(new URL('/jwks', app.url))).json()) as Jwks).keys.map((key) => key.kid);
    const verifies = (app: RunningApp, idToken: string) =>
      jwtVerify(idToken, createRemoteJWKSet(new URL('/jwks', app.url)), { issuer: app.url, audience: client.client_id });

    const oldRsa = base.jwks.keys.find((key) => key.alg === 'RS256')?.kid;
    const before = await signIn(await deploy(base.jwks));
    expect(before.kid).toBe(oldRsa);

    const added = await rotateJwks(base.jwks, 'add');
    const newRsa = added.keys.filter((key) => key.alg === 'RS256').at(-1)?.kid;
    const afterAdd = await deploy(added);
    expect(await publishedKids(afterAdd)).toContain(newRsa);
    expect((await signIn(afterAdd)).kid).toBe(oldRsa); // published, not yet signing

    const promoted = await rotateJwks(added, 'promote');
    const afterPromote = await deploy(promoted);
    const during = await signIn(afterPromote);
    expect(during.kid).toBe(newRsa);
    await expect(verifies(afterPromote, before.tokens.id_token ?? '')).resolves.toBeDefined(); // old token still verifies
    expect((await during.rp.userinfo(before.tokens.access_token, before.tokens.claims()?.sub ?? '')).sub).toBeDefined();

    const retired = await rotateJwks(promoted, 'retire');
    const afterRetire = await deploy(retired);
    expect(await publishedKids(afterRetire)).not.toContain(oldRsa);
    expect((await signIn(afterRetire)).kid).toBe(newRsa);
    await expect(verifies(afterRetire, during.tokens.id_token ?? '')).resolves.toBeDefined();
  });
});

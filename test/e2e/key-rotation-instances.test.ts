import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { type Jwks, rotateJwks } from '../../src/oidc/key-rotation.ts';
import { generateKeySet, type KeySet } from '../../src/oidc/keys.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { newAccount, RelyingParty, registerAndConsent, rpClient } from '../support/relying-party.ts';
import { type RoundRobinProxy, startRoundRobinProxy } from '../support/round-robin-proxy.ts';
import { type RunningApp, startTestApp } from '../support/test-app.ts';
import { UserAgent } from '../support/user-agent.ts';

/**
 * A rolling rotation seen from a load balancer: while one stage is being rolled out, two instances
 * run adjacent stages side by side on the same Redis and MongoDB, and requests alternate between
 * them. Every token either one signs must verify against the JWKS either one publishes.
 */
describe('signing key rotation across instances', () => {
  const scope = isolation('rotation-instances');
  const client = rpClient();
  let base: KeySet;
  let proxy: RoundRobinProxy;
  let running: RunningApp[] = [];

  beforeAll(async () => {
    base = await generateKeySet();
    proxy = await startRoundRobinProxy();
  });
  afterAll(async () => {
    await Promise.all(running.map((app) => app.close()));
    await proxy?.close();
    await dropIsolation(scope);
  });

  /** Two instances, one per key set, both answering as the one issuer behind the proxy. */
  const deployPair = async (older: Jwks, newer: Jwks) => {
    await Promise.all(running.map((app) => app.close()));
    running = await Promise.all(
      [older, newer].map((jwks) =>
        startTestApp({ backends: scope, clients: () => [client], keys: { ...base, jwks }, env: { ISSUER: proxy.url } }),
      ),
    );
    proxy.setUpstreams(running.map((app) => `http://127.0.0.1:${app.config.port}`));
    proxy.served.length = 0;
  };
  const jwksOf = async (app: RunningApp) => (await (await fetch(`http://127.0.0.1:${app.config.port}/jwks`)).json()) as JSONWebKeySet;
  /**
   * Sign-ins through the balancer, every request but the token requests alternating between the
   * instances; the token requests of sign-in i go to instance i % 2, so both instances sign.
   */
  const signIns = async (count: number) => {
    const rp = await RelyingParty.discover(proxy.url, client);
    const results = [];
    for (let index = 0; index < count; index += 1) {
      proxy.pin('/token', index % 2);
      const authorization = await rp.authorize();
      const tokens = await rp.exchange(authorization, await registerAndConsent(new UserAgent(), authorization, newAccount('lb')));
      // userinfo and refresh land on the other instance at least some of the time.
      expect((await rp.userinfo(tokens.access_token, tokens.claims()?.sub ?? '')).sub).toBe(tokens.claims()?.sub);
      const refreshed = await rp.refresh(tokens.refresh_token ?? '');
      results.push(tokens.id_token ?? '', refreshed.id_token ?? '');
    }
    proxy.pin('/token', undefined);
    return results;
  };
  const verifiesEverywhere = async (idTokens: string[]) => {
    for (const app of running) {
      const keys = createLocalJWKSet(await jwksOf(app));
      for (const idToken of idTokens) await jwtVerify(idToken, keys, { issuer: proxy.url, audience: client.client_id });
    }
  };
  const kids = (idTokens: string[]) => new Set(idTokens.map((token) => decodeProtectedHeader(token).kid));
  const rsaKid = (jwks: Jwks, position: 'first' | 'last') => {
    const rsa = jwks.keys.filter((key) => key.alg === 'RS256');
    return (position === 'first' ? rsa[0] : rsa.at(-1))?.kid;
  };

  test('each stage rolled out beside the previous one keeps every token valid on every instance', async () => {
    const added = await rotateJwks(base.jwks, 'add');
    const promoted = await rotateJwks(added, 'promote');
    const retired = await rotateJwks(promoted, 'retire');

    await deployPair(base.jwks, added);
    const duringAdd = await signIns(2);
    expect(kids(duringAdd)).toEqual(new Set([rsaKid(base.jwks, 'first')]));
    await verifiesEverywhere(duringAdd);

    await deployPair(added, promoted);
    const duringPromote = await signIns(2);
    // Both keys sign while the promotion rolls out, and each instance publishes both.
    expect(kids(duringPromote)).toEqual(new Set([rsaKid(base.jwks, 'first'), rsaKid(added, 'last')]));
    await verifiesEverywhere([...duringAdd, ...duringPromote]);
    expect(new Set(proxy.served).size).toBe(2); // both instances answered the rest of the flow too

    await deployPair(promoted, retired);
    const duringRetire = await signIns(2);
    expect(kids(duringRetire)).toEqual(new Set([rsaKid(promoted, 'first')]));
    await verifiesEverywhere(duringRetire);
  });

  test('skipping the add stage would break: a key that signs before it is published fails elsewhere', async () => {
    const promotedAtOnce = await rotateJwks(await rotateJwks(base.jwks, 'add'), 'promote');
    await deployPair(base.jwks, promotedAtOnce);
    const tokens = await signIns(2);
    const [older] = running;
    if (!older) throw new Error('no instance');
    const oldKeys = createLocalJWKSet(await jwksOf(older));
    const results = await Promise.allSettled(
      tokens.map((token) => jwtVerify(token, oldKeys, { issuer: proxy.url, audience: client.client_id })),
    );
    // Sign-in 0 was signed by the older instance, sign-in 1 (ID token and refreshed one) by the newer.
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
  });
});

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { freePort } from '../../scripts/lib/local-services.ts';
import { type AssembledTools, assembleTools } from '../../src/assemble.ts';
import { generateKeySet } from '../../src/oidc/keys.ts';
import { dropIsolation, isolation, type RedisKind, redisEnvOf } from './backends.ts';
import { eventually } from './eventually.ts';
import { newAccount, RelyingParty, RP_REDIRECT_URI } from './relying-party.ts';
import { type RoundRobinProxy, startRoundRobinProxy } from './round-robin-proxy.ts';
import { type ServerProcess, spawnServer, waitUntilReady } from './server-process.ts';
import { type LoadAccount, startSignInLoad } from './sign-in-load.ts';
import { testConfig } from './test-config.ts';

const INSTANCES = 3;
/** How soon a change announced over Redis must be seen by every instance (their cache TTL is 30 s). */
const ANNOUNCED_WITHIN_MS = 1000;

/**
 * Three server processes (`node src/main.ts`, as deployed) on one Redis topology and one MongoDB,
 * behind a round-robin load balancer, so every request of a sign-in may land on a different
 * instance. Checks that a client or user changed by an administrator is seen by every instance at
 * once, and that killing one instance under load breaks only the requests in flight on it.
 */
export function describeManyInstances(kind: RedisKind): void {
  describe(`three instances behind a load balancer, Redis ${kind}`, () => {
    const scope = isolation(`instances-${kind}`, { redis: kind });
    let proxy: RoundRobinProxy;
    let servers: ServerProcess[] = [];
    let tools: AssembledTools;
    let rp: RelyingParty;
    const clientId = 'shop';
    const client = { client_id: clientId, client_secret: '', redirect_uris: [RP_REDIRECT_URI] };
    const accounts: LoadAccount[] = [];

    beforeAll(async () => {
      proxy = await startRoundRobinProxy();
      const keys = await generateKeySet();
      const env = {
        NODE_ENV: 'test',
        ISSUER: proxy.url,
        MONGODB_URI: scope.mongodbUri,
        ...redisEnvOf(scope),
        IDP_REDIS_KEY_PREFIX: scope.redisKeyPrefix,
        IDP_JWKS: JSON.stringify(keys.jwks),
        IDP_COOKIE_KEYS: keys.cookieKeys.join(','),
        IDP_CLIENT_SECRET_KEYS: keys.clientSecretKeys.join(','),
        IDP_AUTH_MAX_PER_IP: '1000000',
      };
      // The administrator's side, as npm run clients and npm run users run it: the same stores, announcing every change.
      tools = await assembleTools(testConfig(env));
      const admin = await tools.clients();
      const { secret } = await admin.create(
        {
          name: 'Shop',
          redirectUris: [RP_REDIRECT_URI],
          postLogoutRedirectUris: [],
          grantTypes: ['authorization_code', 'refresh_token'],
        },
        clientId,
      );
      const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
      servers = ports.map((port) => spawnServer({ ...env, PORT: String(port) }));
      await Promise.all(servers.map((server) => waitUntilReady(server, 30_000)));
      proxy.setUpstreams(ports.map((port) => `http://127.0.0.1:${port}`));
      client.client_secret = secret ?? '';
      rp = await RelyingParty.discover(proxy.url, client);
      const users = await tools.users();
      for (let index = 0; index < 12; index += 1) {
        const account = newAccount(`lb${kind}`);
        const result = await users.userService.register({ ...account, confirmPassword: account.password });
        if (!result.ok) throw new Error(`cannot register ${account.username}`);
        accounts.push({ ...account, id: result.user.id });
      }
    }, 90_000);
    afterAll(async () => {
      await Promise.all(servers.map((server) => server.stop('SIGKILL')));
      await proxy?.close();
      await tools?.close();
      await dropIsolation(scope);
    });

    /** One request to every instance directly, bypassing the balancer. */
    const onEach = <T>(call: (instance: RelyingParty) => Promise<T>) =>
      Promise.all(
        servers
          .filter((server) => server.child.exitCode === null && server.child.signalCode === null)
          .map(async (server) => {
            const direct = await RelyingParty.discover(proxy.url, client, {
              fetch: (url, init) => fetch(String(url).replace(proxy.url, `http://127.0.0.1:${server.port}`), init),
            });
            return call(direct);
          }),
      );

    test('a client or user changed by an administrator is seen by every instance at once', async () => {
      const load = startSignInLoad({ rp, accounts: accounts.slice(0, 1), signInWorkers: 1, tokenWorkers: 0 });
      const [signIn] = (await eventually(
        async () => load.report().completed,
        (completed) => completed.length > 0,
        30_000,
      )) ?? [undefined];
      await load.stop();
      if (!signIn) throw new Error('the first sign-in did not go through');
      const refresh = (instance: RelyingParty) =>
        instance.refresh(signIn.refreshToken).then(
          (tokens) => ({ ok: true as const, tokens }),
          (error: { error?: string }) => ({ ok: false as const, error: error.error }),
        );
      // Every instance has read the client and the user, and keeps them in its cache.
      const before = await onEach(refresh);
      expect(before.map((result) => result.ok)).toEqual(servers.map(() => true));

      const admin = await tools.clients();
      await admin.setDisabled(clientId, true);
      const refused = await eventually(
        () => onEach(refresh),
        (results) => results.every((result) => !result.ok),
        ANNOUNCED_WITHIN_MS,
      );
      expect(refused.map((result) => (result.ok ? 'accepted' : result.error))).toEqual(servers.map(() => 'invalid_client'));
      await admin.setDisabled(clientId, false);
      const accepted = await eventually(
        () => onEach(refresh),
        (results) => results.every((result) => result.ok),
        ANNOUNCED_WITHIN_MS,
      );
      expect(accepted.every((result) => result.ok)).toBe(true);

      // A user's new name reaches every instance's userinfo at once.
      const access = accepted[0]?.ok ? accepted[0].tokens.access_token : '';
      const names = () => onEach((instance) => instance.userinfo(access, signIn.account.id).then((claims) => claims.name));
      const users = await tools.users();
      await users.admin.setName(signIn.account.id, `Renamed ${kind}`);
      expect(await eventually(names, (seen) => seen.every((name) => name === `Renamed ${kind}`), ANNOUNCED_WITHIN_MS)).toEqual(
        servers.map(() => `Renamed ${kind}`),
      );
    }, 60_000);

    test('one instance killed under load: only requests in flight on it fail, and sign-ins go on through the others', async () => {
      const first = await (async () => {
        const warm = startSignInLoad({ rp, accounts: accounts.slice(1, 2), signInWorkers: 1, tokenWorkers: 0 });
        await eventually(
          async () => warm.completedSince(0),
          (count) => count > 0,
          30_000,
        );
        return (await warm.stop()).completed[0];
      })();
      if (!first) throw new Error('the first sign-in did not go through');
      const load = startSignInLoad({
        rp,
        accounts: accounts.slice(2),
        signInWorkers: 3,
        tokenWorkers: 1,
        refreshToken: first.refreshToken,
        tokenAccount: first.account,
      });
      let killedAt = 0;
      try {
        await eventually(
          async () => load.completedSince(0),
          (count) => count >= 3,
          30_000,
        );
        const victim = servers[1];
        if (!victim) throw new Error('no second instance');
        killedAt = Date.now();
        await victim.stop('SIGKILL');
        await eventually(
          async () => load.completedSince(killedAt),
          (count) => count >= 4,
          30_000,
        );
      } finally {
        await load.stop();
      }
      const report = load.report();
      const failures = Object.values(report.failures).reduce((sum, count) => sum + count, 0);
      process.stdout.write(
        `three instances (Redis ${kind}): one killed; sign-ins ${report.signIns.completed} completed, ${report.signIns.failed} failed; ` +
          `token requests ${report.tokenRequests.completed} completed, ${report.tokenRequests.failed} failed; failures ${JSON.stringify(report.failures)}; ` +
          `requests the balancer lost with the instance ${proxy.failed.length}; wrong answers ${report.wrong.length}\n`,
      );
      expect(report.wrong).toEqual([]);
      expect(load.completedSince(killedAt)).toBeGreaterThanOrEqual(4);
      // Each worker has one request in flight at a time, so at most one per worker was on the killed instance.
      expect(failures).toBeLessThanOrEqual(4);
      expect(proxy.failed.length).toBe(failures);
      for (const kind of Object.keys(report.failures)) expect(kind).toMatch(/^502 /);
    }, 90_000);
  });
}

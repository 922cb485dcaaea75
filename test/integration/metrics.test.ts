import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { freePort, startRedis, type TestService } from '../../scripts/lib/local-services.ts';
import { listenMetrics } from '../../src/observability/metrics.ts';
import { useTestApp } from '../support/app-fixture.ts';
import { allowConsent, newAccount, openAuthorization, registerAndConsent, rpClient, signInFrom } from '../support/relying-party.ts';
import { spawnServer, waitUntilReady } from '../support/server-process.ts';
import { linkIn } from '../support/smtp.ts';
import { expectPage, UserAgent } from '../support/user-agent.ts';

/** The samples of a Prometheus text exposition, as "name{labels}" -> value. */
function samples(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match?.[1] && match[2]) result.set(match[1], Number(match[2]));
  }
  return result;
}

/** Prometheus metrics on a port of their own (METRICS_PORT), counting what really happened. */
describe('metrics', () => {
  const client = rpClient();
  // A Redis of this file's own, so a test can make it refuse writes without touching other files.
  let ownRedis: TestService;
  beforeAll(async () => {
    ownRedis = await startRedis();
  });
  // METRICS_PORT turns the metrics on; the test serves them on a free port of its own below.
  const app = useTestApp('metrics', () => ({
    clients: () => [client],
    relyingParty: client,
    env: { METRICS_PORT: '9' },
    backends: { redisUrl: ownRedis.url },
    mail: true,
  }));
  afterAll(() => ownRedis?.stop());
  let metricsServer: Server;
  const scrape = async () => {
    const { port } = metricsServer.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return samples(await response.text());
  };

  beforeAll(async () => {
    const { metrics } = app.server;
    if (!metrics) throw new Error('METRICS_PORT is set, yet the app has no metrics');
    metricsServer = await listenMetrics(metrics.registry, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await new Promise((resolve) => metricsServer?.close(resolve));
  });

  test('a failed and a successful sign-in, code exchanges and a refresh move the counters by exactly that much', async () => {
    const account = newAccount('metrics');
    const first = await app.rp.authorize();
    await app.rp.exchange(first, await registerAndConsent(new UserAgent(), first, account));

    const before = await scrape();
    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    const loginPage = await openAuthorization(agent, authorization);
    expect(expectPage(await signInFrom(agent, loginPage, account.username, 'not the password at all')).status).toBe(401);
    const consent = expectPage(await signInFrom(agent, loginPage, account.username, account.password));
    const tokens = await app.rp.exchange(authorization, await allowConsent(agent, consent));
    await oidc.refreshTokenGrant(app.rp.config, tokens.refresh_token ?? '');
    const after = await scrape();

    const moved = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(moved('idp_sign_ins_total{result="failed"}')).toBe(1);
    expect(moved('idp_sign_ins_total{result="succeeded"}')).toBe(1);
    expect(moved('idp_sign_ins_total{result="throttled"}')).toBe(0);
    expect(moved(`idp_tokens_issued_total{grant_type="authorization_code",client_id="${client.client_id}"}`)).toBe(1);
    expect(moved(`idp_tokens_issued_total{grant_type="refresh_token",client_id="${client.client_id}"}`)).toBe(1);
    expect(moved('idp_http_requests_total{route="/token",method="POST",status="200"}')).toBe(2);
    expect(moved('idp_http_requests_total{route="/interaction/:uid/login",method="POST",status="401"}')).toBe(1);
    expect(moved('idp_http_request_duration_seconds_count{route="/token",method="POST"}')).toBe(2);

    // Route labels are templates, never raw paths: no interaction uid appears in any label.
    const routes = [...after.keys()].flatMap((key) => /route="([^"]*)"/.exec(key)?.[1] ?? []);
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(route).toMatch(/^(oidc:[a-z_]+|other|\/[A-Za-z0-9/:._-]*)$/);
    expect(routes.some((route) => route.includes(new URL(loginPage.url).pathname.split('/')[2] ?? '-'))).toBe(false);
    // Node's own process metrics are there too.
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  test('a registration, four reset requests for one address (the fourth over its limit) and a reset through the link', async () => {
    const before = await scrape();
    const account = newAccount('resets');
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);
    await app.smtp.waitFor(account.email); // the verification email
    const agent = new UserAgent();
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    const forgot = expectPage(await agent.get(new URL(loginPage.$('a[href$="/forgot"]').attr('href') ?? '', loginPage.url)));
    for (let request = 0; request < 4; request += 1) {
      expect(expectPage(await agent.submit(forgot, 'form[action$="/forgot"]', { email: account.email })).status).toBe(200);
    }
    const link = linkIn(await app.smtp.waitFor(account.email), `${app.server.url}/reset-password?token=`);
    const form = expectPage(await agent.get(link));
    const password = `${account.password} renewed`;
    const done = expectPage(await agent.submit(form, 'form[action="/reset-password"]', { password, confirmPassword: password }));
    expect(done.status).toBe(200);
    const after = await scrape();
    const moved = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(moved('idp_registrations_total{result="succeeded"}')).toBe(1);
    expect(moved('idp_registrations_total{result="throttled"}')).toBe(0);
    // IDP_RESET_MAX_PER_EMAIL is 3: three requests, then one refused (the person is told the same).
    expect(moved('idp_password_resets_total{stage="requested"}')).toBe(3);
    expect(moved('idp_password_resets_total{stage="throttled"}')).toBe(1);
    expect(moved('idp_password_resets_total{stage="completed"}')).toBe(1);
  });

  test('store commands are timed and their errors counted: one readiness probe is one Redis PING and SET and one MongoDB ping', async () => {
    const probe = async () => (await fetch(`${app.server.url}/readyz`)).status;
    const before = await scrape();
    expect(await probe()).toBe(200);
    const afterReady = await scrape();
    const moved = (from: Map<string, number>, to: Map<string, number>, name: string) => (to.get(name) ?? 0) - (from.get(name) ?? 0);
    const count = (store: string, command: string) => `idp_store_command_duration_seconds_count{store="${store}",command="${command}"}`;
    const errors = (store: string, command: string) => `idp_store_command_errors_total{store="${store}",command="${command}"}`;
    expect(moved(before, afterReady, count('redis', 'ping'))).toBe(1);
    expect(moved(before, afterReady, count('redis', 'set'))).toBe(1);
    expect(moved(before, afterReady, count('mongodb', 'ping'))).toBe(1);
    expect(moved(before, afterReady, errors('redis', 'set'))).toBe(0);

    // Redis refuses every write (as a replica would): the probe's SET fails, and is counted as an error.
    const admin = new Redis(ownRedis.url);
    try {
      await admin.config('SET', 'min-replicas-to-write', '1');
      expect(await probe()).toBe(503);
    } finally {
      await admin.config('SET', 'min-replicas-to-write', '0');
      admin.disconnect();
    }
    const afterRefusal = await scrape();
    expect(moved(afterReady, afterRefusal, errors('redis', 'set'))).toBe(1);
    expect(moved(afterReady, afterRefusal, count('redis', 'set'))).toBe(1);
    expect(moved(afterReady, afterRefusal, errors('redis', 'ping'))).toBe(0);
  });

  test('cache lookups: a cached user is a hit at each userinfo request; an unknown client is a miss each time', async () => {
    const account = newAccount('cache');
    const authorization = await app.rp.authorize();
    const tokens = await app.rp.exchange(authorization, await registerAndConsent(new UserAgent(), authorization, account));
    const sub = tokens.claims()?.sub ?? '';
    const before = await scrape();
    for (let i = 0; i < 3; i += 1) await app.rp.userinfo(tokens.access_token, sub);
    for (let i = 0; i < 2; i += 1) {
      const response = await fetch(`${app.server.url}/auth?client_id=nobody-registered-this&response_type=code&scope=openid`, {
        redirect: 'manual',
      });
      await response.arrayBuffer();
      expect(response.status).toBe(400);
    }
    const after = await scrape();
    const moved = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(moved('idp_cache_lookups_total{cache="users",result="hit"}')).toBe(3);
    expect(moved('idp_cache_lookups_total{cache="users",result="miss"}')).toBe(0);
    // Unknown ids are never cached (guessing ids cannot fill memory), so each is a miss.
    expect(moved('idp_cache_lookups_total{cache="clients",result="miss"}')).toBe(2);
    expect(moved('idp_cache_lookups_total{cache="clients",result="hit"}')).toBe(0);
    expect(moved('idp_cache_lookups_total{cache="users",result="bypass"}')).toBe(0);
  });

  test('the server serves them on METRICS_PORT only, never on the public port', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const server = spawnServer({ PORT: String(port), METRICS_PORT: String(metricsPort) });
    try {
      await waitUntilReady(server);
      const onMetricsPort = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(onMetricsPort.status).toBe(200);
      expect(await onMetricsPort.text()).toContain('# TYPE idp_http_requests_total counter');
      const onPublicPort = await fetch(`http://127.0.0.1:${port}/metrics`);
      await onPublicPort.arrayBuffer();
      expect(onPublicPort.status).toBe(404);
      expect(server.output().stdout).toContain('"event":"metrics"');
    } finally {
      await server.stop();
    }
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { freePort } from '../../scripts/lib/local-services.ts';
import { generateKeySet } from '../../src/oidc/keys.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { eventually } from '../support/eventually.ts';
import { newAccount, RelyingParty, registerAndConsent, rpClient } from '../support/relying-party.ts';
import { runServerToExit, type ServerProcess, spawnServer, waitUntilReady } from '../support/server-process.ts';
import { UserAgent } from '../support/user-agent.ts';

/** The process ids of a process's children, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}

/** The access log lines (JSON) for `path`, with the worker that wrote each. */
function accessLinesOf(stdout: string, path: string): Array<{ worker: number }> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"msg":"request"') && line.includes(`"path":"${path}"`))
    .map((line) => JSON.parse(line) as { worker: number });
}

/** A GET on a connection of its own, so that the cluster hands each request to the next worker. */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { headers: { Connection: 'close' }, agent: false, timeout: 2000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('no answer within 2 s')));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** IDP_WORKERS: several server processes on one port, kept running by a supervisor. */
describe('worker processes', () => {
  const scope = isolation('workers');
  const client = rpClient();
  let server: ServerProcess;
  let url: string;
  let metricsUrl: string;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    const keys = await generateKeySet();
    const [port, metricsPort] = [await freePort(), await freePort()];
    dir = mkdtempSync(join(tmpdir(), 'idp-workers-'));
    const clientsFile = join(dir, 'clients.json');
    writeFileSync(clientsFile, JSON.stringify([client]));
    url = `http://127.0.0.1:${port}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: url,
      MONGODB_URI: scope.mongodbUri,
      REDIS_URL: scope.redisUrl,
      IDP_REDIS_KEY_PREFIX: scope.redisKeyPrefix,
      IDP_JWKS: JSON.stringify(keys.jwks),
      IDP_COOKIE_KEYS: keys.cookieKeys.join(','),
      IDP_CLIENTS_FILE: clientsFile,
    };
    server = spawnServer({ ...env, IDP_WORKERS: '2', METRICS_PORT: String(metricsPort) });
    await waitUntilReady(server, 30_000);
    // The first worker to listen answers readiness; the cluster hands connections only to workers that listen.
    const all = await eventually(
      async () => server.output().stdout,
      (stdout) => stdout.includes('"event":"workers.listening"'),
      30_000,
    );
    expect(all).toContain('"event":"workers.listening"');
    expect(childrenOf(server.child.pid ?? 0)).toHaveLength(2);
  });
  afterAll(async () => {
    await server?.stop();
    await dropIsolation(scope);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('both workers serve, a sign-in works across them, and /metrics on the supervisor sums them', async () => {
    const statuses = [];
    for (let index = 0; index < 40; index += 1) statuses.push(await getOnNewConnection(`${url}/.well-known/openid-configuration`));
    expect(statuses.every((status) => status === 200)).toBe(true);
    // Round-robin hands the connections out in turn, so each worker answered some: their access lines say which.
    const served = await eventually(
      async () => accessLinesOf(server.output().stdout, '/.well-known/openid-configuration'),
      (lines) => lines.length >= 40,
      5000,
    );
    const byWorker = new Map<number, number>();
    for (const line of served) byWorker.set(line.worker, (byWorker.get(line.worker) ?? 0) + 1);
    expect([...byWorker.keys()].sort()).toEqual([1, 2]);
    expect(Math.min(...byWorker.values())).toBeGreaterThanOrEqual(10);

    const rp = await RelyingParty.discover(url, client);
    const authorization = await rp.authorize();
    const tokens = await rp.exchange(authorization, await registerAndConsent(new UserAgent(), authorization, newAccount('workers')));
    expect((await rp.userinfo(tokens.access_token, tokens.claims()?.sub ?? '')).sub).toBe(tokens.claims()?.sub);

    const metrics = await (await fetch(metricsUrl)).text();
    const discovery = metrics
      .split('\n')
      .find((line) => line.startsWith('idp_http_requests_total{route="oidc:discovery",method="GET",status="200"}'));
    // 40 discovery requests from here and one from the relying party, spread over two processes, counted once each in the sum.
    expect(Number(discovery?.split(' ').at(-1))).toBe(41);
    expect(metrics).toMatch(/^idp_tokens_issued_total\{grant_type="authorization_code",client_id="rp-app"\} 1$/m);
  });

  test('a worker that dies is replaced while the other keeps serving', async () => {
    const [victim, survivor] = childrenOf(server.child.pid ?? 0);
    process.kill(victim ?? 0, 'SIGKILL');
    // A connection the cluster handed to the victim as it died may go unanswered (a load balancer
    // would retry it); the next ones are served by the survivor.
    const answered = await eventually(
      () => getOnNewConnection(`${url}/healthz`).catch(() => 0),
      (status) => status === 200,
      10_000,
    );
    expect(answered).toBe(200);
    const now = await eventually(
      async () => childrenOf(server.child.pid ?? 0),
      (pids) => pids.length === 2 && !pids.includes(victim ?? 0),
      20_000,
    );
    expect(now).toHaveLength(2);
    expect(now).toContain(survivor);
    expect(now).not.toContain(victim);
    // Both answer readiness: the replacement has connected to the stores.
    const ready = await Promise.all(Array.from({ length: 6 }, () => getOnNewConnection(`${url}/readyz`)));
    expect(ready).toEqual(Array(6).fill(200));
    expect(server.output().stdout).toContain('a worker died; starting another');
  });

  test('without shared keys or stores, more than one worker is refused with one line each', async () => {
    const { IDP_JWKS: _jwks, IDP_COOKIE_KEYS: _cookies, REDIS_URL: _redis, ...rest } = env;
    const result = await runServerToExit({ ...rest, IDP_WORKERS: 'auto' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'configuration error: workers (IDP_WORKERS): needs REDIS_URL (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES) and MONGODB_URI: the in-process stores of the embedded mode cannot be shared between processes',
      'configuration error: workers (IDP_WORKERS): needs IDP_JWKS and IDP_COOKIE_KEYS: keys generated at start would differ between the processes (make them with npm run keys)',
    ]);
    const bad = await runServerToExit({ ...env, IDP_WORKERS: 'many' });
    expect(bad.stderr).toBe('configuration error: workers (IDP_WORKERS): must be a number of processes or auto (one per core)\n');
  });

  test('a worker that cannot start stops the supervisor with its reason', async () => {
    const port = await freePort();
    const result = await runServerToExit({ ...env, PORT: String(port), IDP_WORKERS: '2', MONGODB_URI: `mongodb://127.0.0.1:${port}/idp` });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot connect to MongoDB at mongodb:\/\/127\.0\.0\.1:\d+\/idp/);
  });

  test('SIGTERM stops every worker and then the supervisor, with exit code 0', async () => {
    const workers = childrenOf(server.child.pid ?? 0);
    expect(await server.stop('SIGTERM')).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  });
});

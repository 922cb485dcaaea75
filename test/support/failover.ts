import { expect } from '@jest/globals';
import type { ClientMetadata } from 'oidc-provider';
import type { LocalRedisTopology, RedisProcess } from '../../scripts/lib/redis-topologies.ts';
import type { Isolation } from './backends.ts';
import { eventually } from './eventually.ts';
import { newAccount, RelyingParty } from './relying-party.ts';
import { checkKept, type LoadAccount, type LoadReport, startSignInLoad } from './sign-in-load.ts';
import { startTestApp } from './test-app.ts';

/** Each durable write waits for one replica (REDIS_WAIT_REPLICAS), for at most this long. */
export const FAILOVER_ENV = {
  REDIS_WAIT_REPLICAS: '1',
  REDIS_WAIT_TIMEOUT_MS: '1000',
  // Every sign-in of the load comes from 127.0.0.1.
  IDP_AUTH_MAX_PER_IP: '1000000',
};

/**
 * The app on a topology of its own, with accounts to sign in. With FAILOVER_DEBUG=1 in the
 * environment, the app's warnings and errors and the load's whole report are printed, to see why a
 * run failed.
 */
export async function startFailoverApp(scope: Isolation, local: LocalRedisTopology, client: ClientMetadata, accountCount: number) {
  const logLines: string[] = [];
  const app = await startTestApp({
    backends: { ...scope, redis: { topology: local.topology, env: local.env } },
    clients: () => [client],
    env: FAILOVER_ENV,
    ...(process.env.FAILOVER_DEBUG ? { logLines } : {}),
  });
  if (process.env.FAILOVER_DEBUG) {
    const timer = setInterval(() => {
      for (const line of logLines.splice(0)) if (/"level":(40|50|60)/.test(line)) process.stdout.write(`${line.slice(0, 1500)}\n`);
    }, 200);
    timer.unref();
  }
  const accounts: LoadAccount[] = [];
  for (let index = 0; index < accountCount; index += 1) {
    const account = newAccount('failover');
    const result = await app.users.userService.register({ ...account, confirmPassword: account.password });
    if (!result.ok) throw new Error(`cannot register ${account.username}: ${JSON.stringify(result.errors)}`);
    accounts.push({ ...account, id: result.user.id });
  }
  const rp = await RelyingParty.discover(app.url, client);
  return { app, accounts, rp };
}

export interface FailoverResult {
  report: LoadReport;
  killed: RedisProcess;
  /** From the kill to the last failed request (ms); 0 when none failed. */
  failingForMs: number;
}

/**
 * Runs sign-ins and token requests, kills `victim()` (SIGKILL, as a crash) once some sign-ins went
 * through, and goes on until sign-ins that started after the kill go through again. Then checks
 * the promises: no wrong answer, every failure a clean 503 (temporarily_unavailable), a bounded
 * number of them, and every sign-in acknowledged before, during and after the failover still there.
 */
export async function runFailover(
  label: string,
  { accounts, rp }: { accounts: LoadAccount[]; rp: RelyingParty },
  victim: () => Promise<RedisProcess>,
): Promise<FailoverResult> {
  const [tokenAccount] = accounts;
  if (!tokenAccount) throw new Error('no accounts');
  const warmUp = startSignInLoad({ rp, accounts: [tokenAccount], signInWorkers: 1, tokenWorkers: 0 });
  await eventually(
    async () => warmUp.completedSince(0),
    (count) => count > 0,
    20_000,
  );
  const [first] = (await warmUp.stop()).completed;
  if (!first) throw new Error('the first sign-in did not go through');

  const load = startSignInLoad({
    rp,
    accounts: accounts.slice(1),
    signInWorkers: 3,
    tokenWorkers: 1,
    refreshToken: first.refreshToken,
    tokenAccount,
  });
  let report: LoadReport;
  let killed: RedisProcess;
  let killedAt = 0;
  try {
    expect(
      await eventually(
        async () => load.completedSince(0),
        (count) => count >= 4,
        30_000,
      ),
    ).toBeGreaterThanOrEqual(4);
    killed = await victim();
    killedAt = Date.now();
    await killed.stop('SIGKILL');
    const recovered = await eventually(
      async () => load.completedSince(killedAt),
      (count) => count >= 4,
      40_000,
    );
    expect(recovered).toBeGreaterThanOrEqual(4);
  } finally {
    report = await load.stop();
    if (process.env.FAILOVER_DEBUG)
      process.stdout.write(`${label}: ${JSON.stringify({ ...report, completed: report.completed.length })}\n`);
  }

  const completed = [first, ...report.completed];
  const lost: string[] = [];
  for (const signIn of completed) {
    for (const missing of await checkKept(rp, signIn)) lost.push(`${signIn.account.username}: ${missing}`);
  }
  const failures = Object.values(report.failures).reduce((sum, count) => sum + count, 0);
  const failingForMs = failures > 0 ? Math.max(...report.failedAt) - killedAt : 0;
  process.stdout.write(
    `${label}: killed ${killed.address}; requests failed until ${failingForMs} ms after the kill; sign-ins ${report.signIns.completed} completed, ${report.signIns.failed} failed; ` +
      `token requests ${report.tokenRequests.completed} completed, ${report.tokenRequests.failed} failed; failures by answer and step ${JSON.stringify(report.failures)}; ` +
      `wrong answers ${report.wrong.length}; acknowledged sign-ins checked after the failover ${completed.length}, lost ${lost.length}\n`,
  );
  expect(report.wrong).toEqual([]);
  // Clean failures only: 503 with temporarily_unavailable, from a page, an API or the redirect back to the app.
  for (const kind of Object.keys(report.failures)) expect(kind).toMatch(/^(503|temporarily_unavailable) /);
  expect(failures).toBeLessThan(200);
  expect(lost).toEqual([]);
  return { report, killed, failingForMs };
}

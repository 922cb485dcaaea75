import { expect } from '@jest/globals';
import type { ClientMetadata } from 'oidc-provider';
import type { LocalRedisTopology, RedisProcess } from '../../scripts/lib/redis-topologies.ts';
import type { Isolation } from './backends.ts';
import { newAccount, RelyingParty } from './relying-party.ts';
import { checkKept, type LoadAccount, type LoadReport, loadFetch, REQUEST_TIMEOUT_MS, startSignInLoad } from './sign-in-load.ts';
import { startTestApp } from './test-app.ts';

/** Each durable write waits for one replica (REDIS_WAIT_REPLICAS), for at most this long. */
export const FAILOVER_ENV = {
  REDIS_WAIT_REPLICAS: '1',
  REDIS_WAIT_TIMEOUT_MS: '1000',
  // Every sign-in of the load comes from 127.0.0.1.
  IDP_AUTH_MAX_PER_IP: '1000000',
};

/**
 * How long each phase may take, generous for a busy 2-core machine running the whole suite, but
 * finite: a phase that overruns fails the test with the server's log lines rather than hanging it.
 * Detection of the dead primary takes about a second (the topologies' down-after / node timeout),
 * the promotion a second or two more, and the client finds the new primary within a second of it.
 */
const WITHIN = {
  firstSignInMs: 30_000,
  signInsBeforeKillMs: 30_000,
  recoveryMs: 60_000,
};
/** Sign-ins to see before the kill, and after it before the failover counts as over. */
const SIGN_INS = 4;
/** The longest a failover test can take, every phase overrunning: a test timeout above it lets the test's own message show. */
export const FAILOVER_TEST_TIMEOUT_MS =
  WITHIN.firstSignInMs + WITHIN.signInsBeforeKillMs + WITHIN.recoveryMs + 3 * REQUEST_TIMEOUT_MS + 30_000;

/**
 * The app on a topology of its own, with accounts to sign in. Its log lines are kept, to print what
 * the server said about each failed request; with FAILOVER_DEBUG=1 in the environment, its warnings
 * and errors are also printed as they come, with the load's whole report.
 */
export async function startFailoverApp(scope: Isolation, local: LocalRedisTopology, client: ClientMetadata, accountCount: number) {
  const logLines: string[] = [];
  const app = await startTestApp({
    backends: { ...scope, redis: { topology: local.topology, env: local.env } },
    clients: () => [client],
    env: FAILOVER_ENV,
    logLines,
  });
  if (process.env.FAILOVER_DEBUG) {
    let printed = 0;
    const timer = setInterval(() => {
      for (const line of logLines.slice(printed)) if (/"level":(40|50|60)/.test(line)) process.stdout.write(`${line.slice(0, 1500)}\n`);
      printed = logLines.length;
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
  const rp = await RelyingParty.discover(app.url, client, { fetch: loadFetch });
  return { app, accounts, rp, logLines };
}

export interface FailoverResult {
  report: LoadReport;
  killed: RedisProcess;
  /** From the kill to the last failed request (ms); 0 when none failed. */
  failingForMs: number;
  /** From the kill until the first sign-in started after it went through (ms). */
  recoveredAfterMs: number;
}

interface LogLine {
  level?: number;
  time?: number;
  requestId?: string;
  msg?: string;
  event?: string;
  error?: string;
  detail?: string;
  status?: number;
  err?: { type?: string; message?: string };
}

function parseLines(lines: string[]): LogLine[] {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

/** A log line in a few words: what happened, the error and what Redis or ioredis said. */
function describeLine(line: LogLine, since: number): string {
  const parts = [
    `+${(line.time ?? since) - since} ms`,
    line.msg,
    line.event,
    line.error,
    line.detail,
    line.err ? `${line.err.type}: ${line.err.message?.split('\n')[0]}` : undefined,
  ];
  return parts
    .filter((part) => part !== undefined && part !== '')
    .join(' | ')
    .slice(0, 400);
}

/**
 * What the server logged about each failed request (its warnings and errors, found by the request
 * id the load sent), and about its Redis connection (lost, restored), relative to the kill.
 */
function serverStory(report: LoadReport, logLines: string[], killedAt: number): string {
  const lines = parseLines(logLines);
  const out: string[] = [];
  for (const failure of report.failed.slice(0, 40)) {
    const said = lines.filter((line) => line.requestId !== undefined && line.requestId === failure.requestId && (line.level ?? 0) >= 40);
    const access = lines.find((line) => line.requestId === failure.requestId && line.msg === 'request');
    const what =
      said.length > 0
        ? said.map((line) => describeLine(line, killedAt)).join(' / ')
        : failure.kind.startsWith('timeout')
          ? `no warning or error logged; ${access ? `answered ${access.status} late` : 'the server had not answered when the load gave up'}`
          : 'no warning or error logged';
    out.push(`  ${failure.kind} at +${failure.at - killedAt} ms (${failure.requestId ?? 'no request id'}): ${what}`);
  }
  if (report.failed.length > 40) out.push(`  ... and ${report.failed.length - 40} more`);
  const connection = lines.filter((line) => /connection (lost|restored)/.test(line.msg ?? ''));
  for (const line of connection) out.push(`  store: ${describeLine(line, killedAt)}`);
  return out.join('\n');
}

/** Warnings and errors the server logged from `since` on, for a phase that did not end in time. */
function recentTrouble(logLines: string[], since: number): string {
  const trouble = parseLines(logLines).filter((line) => (line.level ?? 0) >= 40 && (line.time ?? 0) >= since);
  const shown = trouble.slice(-30).map((line) => `  ${describeLine(line, since)}`);
  return shown.length > 0 ? shown.join('\n') : '  (no warning or error logged)';
}

/**
 * Runs sign-ins and token requests, kills `victim()` (SIGKILL, as a crash) once some sign-ins went
 * through, and goes on until sign-ins that started after the kill go through again. Then checks
 * the promises: no wrong answer, every failure a clean 503 (temporarily_unavailable), a bounded
 * number of them, and every sign-in acknowledged before, during and after the failover still there.
 * Prints the counts, how long requests failed and when service resumed, and for every failed
 * request what the server logged about it.
 */
export async function runFailover(
  label: string,
  { accounts, rp, logLines }: { accounts: LoadAccount[]; rp: RelyingParty; logLines: string[] },
  victim: () => Promise<RedisProcess>,
): Promise<FailoverResult> {
  const [tokenAccount] = accounts;
  if (!tokenAccount) throw new Error('no accounts');
  const started = Date.now();
  const warmUp = startSignInLoad({ rp, accounts: [tokenAccount], signInWorkers: 1, tokenWorkers: 0 });
  await warmUp.whenCompleted(0, 1, WITHIN.firstSignInMs);
  const warmed = await warmUp.stop();
  const [first] = warmed.completed;
  if (!first) {
    throw new Error(
      `${label}: no sign-in went through within ${WITHIN.firstSignInMs} ms, before any kill; failures ${JSON.stringify(warmed.failures)}\n${recentTrouble(logLines, started)}`,
    );
  }

  const load = startSignInLoad({
    rp,
    accounts: accounts.slice(1),
    signInWorkers: 3,
    tokenWorkers: 1,
    refreshToken: first.refreshToken,
    tokenAccount,
  });
  let killed: RedisProcess | undefined;
  let killedAt = 0;
  let recovered = 0;
  try {
    const before = await load.whenCompleted(0, SIGN_INS, WITHIN.signInsBeforeKillMs);
    if (before < SIGN_INS) {
      throw new Error(
        `${label}: only ${before} sign-ins went through within ${WITHIN.signInsBeforeKillMs} ms, before any kill\n${recentTrouble(logLines, started)}`,
      );
    }
    killed = await victim();
    killedAt = Date.now();
    await killed.stop('SIGKILL');
    recovered = await load.whenCompleted(killedAt, SIGN_INS, WITHIN.recoveryMs);
  } finally {
    await load.stop();
  }
  const report = load.report();
  if (!killed) throw new Error(`${label}: no process was killed`);
  const failures = Object.values(report.failures).reduce((sum, count) => sum + count, 0);
  const failingForMs = failures > 0 ? Math.max(...report.failed.map((failure) => failure.at)) - killedAt : 0;
  const afterKill = report.completed.filter((signIn) => signIn.startedAt > killedAt);
  const recoveredAfterMs = afterKill.length > 0 ? Math.min(...afterKill.map((signIn) => signIn.finishedAt)) - killedAt : -1;
  const story = serverStory(report, logLines, killedAt);
  if (process.env.FAILOVER_DEBUG) process.stdout.write(`${label}: ${JSON.stringify({ ...report, completed: report.completed.length })}\n`);
  if (recovered < SIGN_INS) {
    throw new Error(
      `${label}: service did not resume: ${recovered} sign-ins started after the kill of ${killed.address} went through within ${WITHIN.recoveryMs} ms ` +
        `(failures ${JSON.stringify(report.failures)})\nfailed requests and Redis connection:\n${story}\nlast warnings and errors:\n${recentTrouble(logLines, killedAt)}`,
    );
  }

  const completed = [first, ...report.completed];
  const lost: string[] = [];
  for (const signIn of completed) {
    for (const missing of await checkKept(rp, signIn)) lost.push(`${signIn.account.username}: ${missing}`);
  }
  process.stdout.write(
    `${label}: killed ${killed.address}; service resumed ${recoveredAfterMs} ms after the kill (first sign-in started after it that went through); ` +
      `requests failed until ${failingForMs} ms after the kill; sign-ins ${report.signIns.completed} completed, ${report.signIns.failed} failed; ` +
      `token requests ${report.tokenRequests.completed} completed, ${report.tokenRequests.failed} failed; failures by answer and step ${JSON.stringify(report.failures)}; ` +
      `wrong answers ${report.wrong.length}; acknowledged sign-ins checked after the failover ${completed.length}, lost ${lost.length}; ` +
      `test took ${Date.now() - started} ms\n${story ? `failed requests and Redis connection (times from the kill):\n${story}\n` : ''}`,
  );
  expect(report.wrong).toEqual([]);
  // Clean failures only: 503 with temporarily_unavailable, from a page, an API or the redirect back to the app.
  for (const kind of Object.keys(report.failures)) expect(kind).toMatch(/^(503|temporarily_unavailable) /);
  expect(failures).toBeLessThan(200);
  expect(lost).toEqual([]);
  return { report, killed, failingForMs, recoveredAfterMs };
}

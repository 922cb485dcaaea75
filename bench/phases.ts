import { type BackendCounters, type BackendProbe, counterDelta } from './diagnostics.ts';
import type { BenchClient, BenchUser } from './fixtures.ts';
import { probe, type RequestSpec, type RunResult, runLoad } from './load.ts';
import type { BenchOptions } from './options.ts';
import { runPaced } from './paced-load.ts';
import { type NodeServer, sampleProcess, type Watched } from './processes.ts';
import type { BenchReport, RoundTrips, ScenarioRow, WorkerRow } from './report.ts';
import type { Scenario, ScenarioContext } from './scenarios.ts';
import { signIn, type Target } from './sign-in-flow.ts';
import { runSignInLoad } from './sign-in-load.ts';

export interface ServerUnderTest {
  kind: 'baseline' | 'ours';
  server: NodeServer;
  /** The server's process and, for ours, its Redis and MongoDB-wire servers. */
  watched: Watched;
  target: Target;
  context: ScenarioContext;
}

const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Signs in `count` times (a few at once) and keeps the refresh tokens, for the token scenarios. */
export async function mintRefreshTokens(target: Target, app: BenchClient, users: BenchUser[], count: number): Promise<string[]> {
  const tokens: string[] = [];
  const worker = async (offset: number) => {
    for (let index = offset; index < count; index += 4) {
      const user = users[index % users.length];
      if (!user) throw new Error('no bench users');
      const { tokens: issued } = await signIn(target, app, user);
      if (!issued.refresh_token) throw new Error('sign-in with offline_access returned no refresh token');
      tokens.push(issued.refresh_token);
    }
  };
  await Promise.all([0, 1, 2, 3].map(worker));
  return tokens;
}

/** Each scenario against the baseline, then ours: warm-up, the maximum rate, then half of it. */
export async function runScenarios(servers: ServerUnderTest[], scenarios: Scenario[], options: BenchOptions): Promise<ScenarioRow[]> {
  const rows: ScenarioRow[] = [];
  for (const scenario of scenarios) {
    const byKind: Partial<Record<ServerUnderTest['kind'], RunResult>> = {};
    for (const { kind, server, watched, context } of servers) {
      const spec = await scenario.build(context);
      await assertWorks(server, spec, scenario);
      server.truncateLog();
      if (options.warmup > 0) await runLoad(server.wireUrl, watched, spec, { connections: options.connections, duration: options.warmup });
      const max = await runLoad(server.wireUrl, watched, spec, { connections: options.connections, duration: options.duration });
      const half = await runPaced(server.wireUrl, watched, spec, {
        connections: options.connections,
        duration: options.duration,
        rate: max.rps / 2,
      });
      byKind[kind] = max;
      const baseline = byKind.baseline;
      const ratio = kind === 'ours' && baseline ? max.rps / baseline.rps : undefined;
      rows.push({ id: scenario.id, title: scenario.title, server: kind, max, half, ...(ratio === undefined ? {} : { ratio }) });
      say(
        `${scenario.title} ${kind}: ${max.rps.toFixed(0)} req/s, p99 ${max.p99} ms, at half rate p99 ${half.p99.toFixed(1)} ms, errors ${max.errors + half.errors}`,
      );
    }
  }
  return rows;
}

async function assertWorks(server: NodeServer, spec: RequestSpec, scenario: Scenario): Promise<void> {
  const answer = await probe(server.wireUrl, spec);
  if (!scenario.accepts(answer.status, answer.body)) {
    throw new Error(
      `${scenario.title} on ${server.name} answered ${answer.status}: ${answer.body.slice(0, 300)}\n${server.log().slice(-2000)}`,
    );
  }
}

/** Backend work per request of each scenario on our server, from a short sample under MONITOR. */
export async function sampleRoundTrips(
  ours: ServerUnderTest,
  scenarios: Scenario[],
  backends: BackendProbe,
  options: BenchOptions,
  users: BenchUser[],
): Promise<RoundTrips[]> {
  const results: RoundTrips[] = [];
  const measure = async (id: string, title: string, run: () => Promise<number>) => {
    const before = await backends.read();
    const monitor = await backends.monitorRedis();
    const requests = await run();
    const trace = await monitor.stop();
    const after = await backends.read();
    results.push(toRoundTrips(id, title, requests, trace, before, after));
  };
  for (const scenario of scenarios) {
    const spec = await scenario.build(ours.context);
    await measure(scenario.id, scenario.title, async () => {
      const run = await runLoad(ours.server.wireUrl, ours.watched, spec, { connections: 4, duration: 0, amount: options.sampleRequests });
      return run.requests;
    });
  }
  await measure('sign_in', '6. sign-in flow (per flow)', async () => {
    const flows = Math.max(5, Math.round(options.sampleRequests / 20));
    for (let index = 0; index < flows; index += 1) {
      const user = users[index % users.length];
      if (!user) throw new Error('no bench users');
      await signIn(ours.target, ours.context.app, user);
    }
    return flows;
  });
  return results;
}

function toRoundTrips(
  id: string,
  title: string,
  requests: number,
  trace: { roundTrips: number; byCommand: Record<string, number> },
  before: BackendCounters,
  after: BackendCounters,
): RoundTrips {
  const redis = counterDelta(after.redisCalls, before.redisCalls);
  const mongo = counterDelta(after.mongoCommands, before.mongoCommands);
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((total, count) => total + count, 0);
  return {
    id,
    title,
    requests,
    redisRoundTrips: trace.roundTrips,
    redisCommands: sum(redis),
    redisBytesIn: after.redisNetInputBytes - before.redisNetInputBytes,
    redisBytesOut: after.redisNetOutputBytes - before.redisNetOutputBytes,
    mongoOps: sum(mongo),
    redisByCommand: redis,
    mongoByCommand: mongo,
  };
}

/** The sign-in scenario on our server: as fast as `concurrency` browsers go, then at half that rate. */
export async function runSignIn(ours: ServerUnderTest, users: BenchUser[], options: BenchOptions) {
  const settings = { concurrency: options.signInConcurrency, duration: Math.max(options.duration, 5) };
  await runSignInLoad(ours.target, ours.watched, ours.context.app, users, { ...settings, duration: Math.max(1, options.warmup) });
  const max = await runSignInLoad(ours.target, ours.watched, ours.context.app, users, settings);
  if (max.firstError) say(`sign-in error: ${max.firstError}`);
  const half = await runSignInLoad(ours.target, ours.watched, ours.context.app, users, { ...settings, rate: max.rps / 2 });
  say(
    `sign-in: ${max.rps.toFixed(1)} flows/s, p99 ${max.p99.toFixed(0)} ms; at half rate p99 ${half.p99.toFixed(0)} ms; errors ${max.errors + half.errors}`,
  );
  return { max, half };
}

/**
 * Issues `options.tokens` client-credentials tokens on our server in ten slices and samples its
 * resident memory after each, to show whether it stays flat while the tokens go to Redis.
 */
export async function runMemory(
  ours: ServerUnderTest,
  scenario: Scenario,
  backends: BackendProbe,
  options: BenchOptions,
  rssStartBytes: number,
): Promise<Omit<BenchReport['memory'], 'rssAfterScenariosBytes' | 'rssAfterSignInBytes'>> {
  const spec = await scenario.build(ours.context);
  const redisBefore = (await backends.read()).redisUsedMemory;
  const slice = Math.ceil(options.tokens / 10);
  const rssSamplesBytes: number[] = [];
  let issued = 0;
  let errors = 0;
  let seconds = 0;
  for (let index = 0; index < 10; index += 1) {
    ours.server.truncateLog(); // an access log line per token would otherwise fill the disk
    const run = await runLoad(ours.server.wireUrl, ours.watched, spec, { connections: options.connections, duration: 0, amount: slice });
    issued += run.requests;
    errors += run.errors;
    seconds += run.seconds;
    rssSamplesBytes.push(sampleProcess(ours.server.pid).rssBytes);
    say(`memory run: ${issued} tokens, RSS ${((rssSamplesBytes.at(-1) ?? 0) / 1048576).toFixed(0)} MiB`);
  }
  const redisAfter = (await backends.read()).redisUsedMemory;
  return {
    tokens: issued,
    tokensPerSecond: issued / seconds,
    errors,
    rssStartBytes,
    rssSamplesBytes,
    redisUsedMemoryBeforeBytes: redisBefore,
    redisUsedMemoryAfterBytes: redisAfter,
  };
}

/**
 * Every token scenario at its maximum rate on ours with IDP_WORKERS=auto (one process per core), to
 * set beside the same scenario on one process: the ratio is what the extra cores buy on this machine,
 * where the load generator, Redis and the MongoDB-wire server use the same cores.
 */
export async function runWorkers(
  workers: ServerUnderTest,
  scenarios: Scenario[],
  oneProcess: ScenarioRow[],
  options: BenchOptions,
): Promise<WorkerRow[]> {
  const rows: WorkerRow[] = [];
  for (const scenario of scenarios) {
    const spec = await scenario.build(workers.context);
    await assertWorks(workers.server, spec, scenario);
    workers.server.truncateLog();
    if (options.warmup > 0)
      await runLoad(workers.server.wireUrl, workers.watched, spec, { connections: options.connections, duration: options.warmup });
    const max = await runLoad(workers.server.wireUrl, workers.watched, spec, {
      connections: options.connections,
      duration: options.duration,
    });
    const one = oneProcess.find((row) => row.id === scenario.id && row.server === 'ours');
    const ratio = one ? max.rps / one.max.rps : undefined;
    rows.push({ id: scenario.id, title: scenario.title, max, ...(ratio === undefined ? {} : { ratio }) });
    say(
      `${scenario.title} with IDP_WORKERS=auto: ${max.rps.toFixed(0)} req/s (${ratio ? `${ratio.toFixed(2)}x one process` : 'no one-process row'}), errors ${max.errors}`,
    );
  }
  return rows;
}

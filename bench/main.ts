/**
 * npm run bench [-- --quick] [-- --json FILE]: our server (production mode, real Redis and
 * MongoDB-wire servers) against bare oidc-provider with its memory adapter, on this machine, in
 * one run. Prints one Markdown table; see bench/README.md. Everything it starts, it stops,
 * also on Ctrl-C or failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startMongo, startRedis } from '../scripts/lib/local-services.ts';
import { startRedisCluster, startRedisSentinel } from '../scripts/lib/redis-topologies.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { isAppError } from '../src/errors.ts';
import { generateKeySet } from '../src/oidc/keys.ts';
import { measureArgon2Rate } from './argon2-rate.ts';
import { compareReports } from './compare.ts';
import { openBackendProbe } from './diagnostics.ts';
import { baselineEnvironment, serverEnvironment } from './environment.ts';
import { benchClients, benchUsers } from './fixtures.ts';
import { type BenchOptions, parseBenchOptions } from './options.ts';
import { mintRefreshTokens, runMemory, runScenarios, runSignIn, runWorkers, type ServerUnderTest, sampleRoundTrips } from './phases.ts';
import { sampleProcess, startNodeServer, waitForChildren } from './processes.ts';
import { type BenchReport, formatReport } from './report.ts';
import { SCENARIOS } from './scenarios.ts';
import { seed } from './seed.ts';
import { signIn } from './sign-in-flow.ts';
import { evaluateTargets } from './targets.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CONFIG_DIR = join(ROOT, 'config');
const REFRESH_POOL = 16;
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Stops, in reverse order, everything the run started; runs once. */
const cleanups: Array<() => Promise<unknown>> = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  })();
  return cleaning;
}

async function main(options: BenchOptions): Promise<void> {
  provision();
  const workDir = mkdtempSync(join(tmpdir(), 'idp-bench-'));
  cleanups.push(async () => rmSync(workDir, { recursive: true, force: true }));

  say(`starting Redis (${options.redis}) and the MongoDB-wire server`);
  const [redis, mongo] = await Promise.all([startBenchRedis(options.redis), startMongo()]);
  cleanups.push(
    () => redis.stop(),
    () => mongo.stop(),
  );
  const mongodbUri = `${mongo.url}/idp_bench`;

  const keys = await generateKeySet();
  const clients = benchClients();
  const users = benchUsers(options.signInConcurrency);
  const [ourPort, baselinePort] = [await freePort(), await freePort()];
  const env = serverEnvironment({ port: ourPort, keys, redisEnv: redis.env, mongodbUri, extra: options.serverEnv });
  const loaded = loadConfig({ env, configDir: CONFIG_DIR });
  if (!loaded.ok) throw new Error(`server configuration refused: ${loaded.errors.join('; ')}`);
  say('registering the bench clients and users');
  await seed(loaded.config, [clients.service, clients.app], users);

  say('starting our server and the baseline');
  const ours = await startNodeServer({
    name: 'ours',
    script: 'src/main.ts',
    env,
    port: ourPort,
    readyPath: '/readyz',
    logFile: join(workDir, 'ours.log'),
    cwd: ROOT,
  });
  cleanups.push(() => ours.stop());
  const rssStartBytes = sampleProcess(ours.pid).rssBytes;
  const baseline = await startNodeServer({
    name: 'baseline',
    script: 'bench/baseline-server.ts',
    env: baselineEnvironment({ port: baselinePort, keys, clients: [clients.service, clients.app], config: loaded.config }),
    port: baselinePort,
    readyPath: '/.well-known/openid-configuration',
    logFile: join(workDir, 'baseline.log'),
    cwd: ROOT,
  });
  cleanups.push(() => baseline.stop());
  const backends = await openBackendProbe(await redis.primaryUrls(), mongodbUri);
  cleanups.push(() => backends.close());

  say(`argon2id verify rate with the server's parameters (m=${loaded.config.argon2.memoryCost} KiB, t=${loaded.config.argon2.timeCost})`);
  const argon2 = await measureArgon2Rate(loaded.config.argon2, Math.min(options.duration, 5));

  const servers: ServerUnderTest[] = [];
  for (const [kind, server] of [
    ['baseline', baseline],
    ['ours', ours],
  ] as const) {
    const target = { issuer: `https://127.0.0.1:${kind === 'ours' ? ourPort : baselinePort}` };
    const refreshTokens = () => mintRefreshTokens(target, clients.app, users, REFRESH_POOL);
    const accessToken = async () => {
      const [user] = users;
      if (!user) throw new Error('no bench users');
      return (await signIn(target, clients.app, user)).tokens.access_token;
    };
    const watched = {
      server: server.pid,
      backends: kind === 'ours' ? [...redis.pids(), mongo.pid].filter((pid): pid is number => pid !== undefined) : [],
    };
    servers.push({ kind, server, watched, target, context: { service: clients.service, app: clients.app, refreshTokens, accessToken } });
  }
  const oursUnderTest = servers[1];
  if (!oursUnderTest) throw new Error('our server is missing');

  const rows = await runScenarios(servers, SCENARIOS, options);
  const rowsOfOne = rows;
  const rssAfterScenariosBytes = sampleProcess(ours.pid).rssBytes;
  const signInRuns = await runSignIn(oursUnderTest, users, options);
  const rssAfterSignInBytes = sampleProcess(ours.pid).rssBytes;
  say('sampling round trips per request under MONITOR');
  const roundTrips = await sampleRoundTrips(oursUnderTest, SCENARIOS, backends, options, users);
  const memoryPerKey = await backends.memoryPerKey(env.IDP_REDIS_KEY_PREFIX ?? '');
  say(`memory run: ${options.tokens} client-credentials tokens`);
  const [clientCredentials] = SCENARIOS;
  if (!clientCredentials) throw new Error('no client-credentials scenario');
  const memory = {
    ...(await runMemory(oursUnderTest, clientCredentials, backends, options, rssStartBytes)),
    rssAfterScenariosBytes,
    rssAfterSignInBytes,
  };

  /** Ours again, as a supervisor of one worker per core (IDP_WORKERS=auto), for the token scenarios' maximum rates. */
  const measureWorkers = async () => {
    await ours.stop();
    say('starting our server with IDP_WORKERS=auto');
    const port = await freePort();
    const many = await startNodeServer({
      name: 'ours-workers',
      script: 'src/main.ts',
      env: { ...env, PORT: String(port), ISSUER: `https://127.0.0.1:${port}`, IDP_WORKERS: 'auto' },
      port,
      readyPath: '/readyz',
      logFile: join(workDir, 'ours-workers.log'),
      cwd: ROOT,
    });
    cleanups.push(() => many.stop());
    // The supervisor answers nothing itself: wait until every worker listens, then count them.
    const count = availableParallelism();
    const pids = await waitForChildren(many.pid, count);
    const rssBytes = [many.pid, ...pids].reduce((total, pid) => total + sampleProcess(pid).rssBytes, 0);
    const target = { issuer: `https://127.0.0.1:${port}` };
    const context = {
      ...oursUnderTest.context,
      refreshTokens: () => mintRefreshTokens(target, clients.app, users, REFRESH_POOL),
      accessToken: async () => {
        const [user] = users;
        if (!user) throw new Error('no bench users');
        return (await signIn(target, clients.app, user)).tokens.access_token;
      },
    };
    const underTest = { kind: 'ours' as const, server: many, watched: { ...oursUnderTest.watched, server: many.pid }, target, context };
    const rows = await runWorkers(underTest, SCENARIOS, rowsOfOne, options);
    await many.stop();
    return { count: pids.length, readyMs: many.readyMs, rssBytes, rows };
  };
  const workers = options.workers ? await measureWorkers() : undefined;

  const partial: Omit<BenchReport, 'targets'> = {
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version, date: new Date().toISOString() },
    settings: { ...options, accessTokenTtl: env.IDP_ACCESS_TOKEN_TTL, refreshTokenPool: REFRESH_POOL },
    rows,
    signIn: {
      ...signInRuns,
      argon2PerSecond: argon2.perSecond,
      argon2MedianMs: argon2.medianMs,
      ofCeiling: signInRuns.max.rps / argon2.perSecond,
    },
    startup: { oursReadyMs: ours.readyMs, baselineReadyMs: baseline.readyMs },
    memory,
    roundTrips,
    memoryPerKey,
    redis: options.redis,
    ...(workers ? { workers } : {}),
  };
  const report: BenchReport = { ...partial, targets: evaluateTargets(partial) };
  process.stdout.write(`${formatReport(report)}\n`);
  if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
}

/** The Redis our server runs on: its variables, its primaries (for the probe) and its processes (for CPU). */
async function startBenchRedis(kind: BenchOptions['redis']) {
  if (kind === 'single') {
    const redis = await startRedis();
    return { env: { REDIS_URL: redis.url }, primaryUrls: async () => [redis.url], pids: () => [redis.pid], stop: () => redis.stop() };
  }
  const local = kind === 'cluster' ? await startRedisCluster() : await startRedisSentinel();
  const primaries = async () =>
    'masters' in local ? (await local.masters()).map((node) => node.address) : [(await local.primary()).address];
  return {
    env: local.env,
    primaryUrls: async () => (await primaries()).map((address) => `redis://${address}`),
    pids: () => local.processes().map((process) => process.pid),
    stop: () => local.stop(),
  };
}

/** Installs redis-server and builds FerretDB when missing, exactly as npm test does. */
function provision(): void {
  const result = spawnSync('bash', [join(ROOT, 'scripts/test-deps.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error('scripts/test-deps.sh failed: Redis and a MongoDB-wire server are needed');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping everything the benchmark started`);
    void cleanUp().then(() => process.exit(130));
  });
}

try {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options.compare) process.stdout.write(`${compareReports(...options.compare)}\n`);
  else await main(options);
} catch (error) {
  if (isAppError(error, 'help')) process.stdout.write(`${error.message}\n`);
  else {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = isAppError(error, 'usage') ? 2 : 1;
  }
} finally {
  await cleanUp();
}

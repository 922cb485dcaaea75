import type { RunResult } from './load.ts';
import type { SignInResult } from './sign-in-load.ts';

export interface ScenarioRow {
  id: string;
  title: string;
  server: 'baseline' | 'ours';
  max: RunResult;
  half: RunResult;
  /** ours max req/s divided by the baseline's, on our rows. */
  ratio?: number;
}

/** A scenario at its maximum rate with IDP_WORKERS=auto, and its ratio to the one-process row. */
export interface WorkerRow {
  id: string;
  title: string;
  max: RunResult;
  ratio?: number;
}

export interface RoundTrips {
  id: string;
  title: string;
  /** Requests (for the sign-in: whole flows) in the sample. */
  requests: number;
  redisRoundTrips: number;
  redisCommands: number;
  /** Bytes the Redis primaries received and sent over the network (replication included). */
  redisBytesIn: number;
  redisBytesOut: number;
  mongoOps: number;
  redisByCommand: Record<string, number>;
  mongoByCommand: Record<string, number>;
}

export interface Target {
  name: string;
  met: boolean;
  detail: string;
}

export interface BenchReport {
  machine: { cpu: string; cores: number; node: string; date: string };
  settings: Record<string, unknown>;
  rows: ScenarioRow[];
  signIn: { max: SignInResult; half: SignInResult; argon2PerSecond: number; argon2MedianMs: number; ofCeiling: number };
  startup: { oursReadyMs: number; baselineReadyMs: number };
  memory: {
    tokens: number;
    tokensPerSecond: number;
    errors: number;
    rssStartBytes: number;
    /** RSS after the token scenarios, and after the sign-ins (argon2id's 64 MiB per verify, 4 at a time). */
    rssAfterScenariosBytes: number;
    rssAfterSignInBytes: number;
    /** RSS after each tenth of the tokens. */
    rssSamplesBytes: number[];
    redisUsedMemoryBeforeBytes: number;
    redisUsedMemoryAfterBytes: number;
  };
  roundTrips: RoundTrips[];
  /** MEMORY USAGE per kind of key after the run, averaged over a sample of each. */
  memoryPerKey: Record<string, { keys: number; bytes: number }>;
  /** The Redis our server ran on. */
  redis: 'single' | 'sentinel' | 'cluster';
  /** IDP_WORKERS=auto: how many processes that made here, and each scenario's maximum rate with them. */
  workers?: { count: number; readyMs: number; rssBytes: number; rows: WorkerRow[] };
  targets: Target[];
}

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
/** A rate: whole numbers, except the few flows per second of the sign-in. */
const rate = (value: number) => fixed(value, value < 100 ? 1 : 0);
const ms = (value: number) => (Number.isFinite(value) ? (value < 10 ? value.toFixed(1) : value.toFixed(0)) : '-');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** A Markdown table with padded columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, index) => Math.max(cell.length, ...rows.map((row) => (row[index] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The report as Markdown: the one results table, then what the table cannot hold. */
export function formatReport(report: BenchReport): string {
  const runCells = (run: RunResult) => [rate(run.rps), ms(run.p50), ms(run.p99), ms(run.max), String(run.errors)];
  const rows = report.rows.map((row) => [
    row.title,
    row.server,
    ...runCells(row.max),
    ...runCells(row.half),
    fixed(row.max.serverCpu),
    fixed(row.max.backendCpu),
    fixed(row.max.generatorCpu),
    row.ratio === undefined ? '' : `${(row.ratio * 100).toFixed(0)}%`,
  ]);
  const { signIn } = report;
  rows.push([
    '6. sign-in flow (per flow)',
    'ours',
    ...runCells(signIn.max),
    ...runCells(signIn.half),
    fixed(signIn.max.serverCpu),
    fixed(signIn.max.backendCpu),
    fixed(signIn.max.generatorCpu),
    `${(signIn.ofCeiling * 100).toFixed(0)}% of argon2`,
  ]);
  const header = [
    'scenario',
    'server',
    'req/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'errors',
    '50%: req/s',
    'p50',
    'p99',
    'max',
    'errors',
    'server CPU %',
    'Redis+DB CPU %',
    'load-gen CPU %',
    'ours / baseline',
  ];

  const { memory } = report;
  const lines = [
    `Machine: ${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}, run at ${report.machine.date}`,
    '',
    table(header, rows),
    '',
    'req/s and latencies: autocannon, as fast as the connections go; "50%": requests paced evenly at half that rate, latency counted from when each was due. ' +
      'CPU: % of one core during the maximum-rate run (server; its Redis and MongoDB-wire servers; the load generator, this process).',
    '',
    `- argon2id verify alone (server's parameters, 4 at a time): ${fixed(signIn.argon2PerSecond, 1)}/s, median ${ms(signIn.argon2MedianMs)} ms`,
    `- sign-in flow: ${fixed(signIn.max.requestsPerFlow, 1)} HTTP requests per flow, ${fixed(signIn.max.rps, 1)} flows/s = ${(signIn.ofCeiling * 100).toFixed(0)}% of the argon2 ceiling`,
    `- start to ready: ours ${fixed(report.startup.oursReadyMs)} ms (/readyz), baseline ${fixed(report.startup.baselineReadyMs)} ms (discovery)`,
    `- memory: ${memory.tokens} client-credentials tokens at ${fixed(memory.tokensPerSecond)}/s (${memory.errors} errors); server RSS ${mib(memory.rssStartBytes)} at ready, ${mib(memory.rssAfterScenariosBytes)} after the token scenarios, ${mib(memory.rssAfterSignInBytes)} after the sign-ins, ` +
      `then after each tenth: ${memory.rssSamplesBytes.map(mib).join(', ')}; Redis used_memory ${mib(memory.redisUsedMemoryBeforeBytes)} -> ${mib(memory.redisUsedMemoryAfterBytes)}`,
    ...(report.workers
      ? [
          '',
          `Every core: \`IDP_WORKERS=auto\` made ${report.workers.count} worker processes (ready in ${fixed(report.workers.readyMs)} ms; ${mib(report.workers.rssBytes)} resident in all at ready), each scenario at its maximum rate beside one process:`,
          '',
          table(
            ['scenario', 'req/s', 'p99 ms', 'errors', 'server CPU %', 'Redis+DB CPU %', 'load-gen CPU %', 'of one process'],
            report.workers.rows.map((row) => [
              row.title,
              rate(row.max.rps),
              ms(row.max.p99),
              String(row.max.errors),
              fixed(row.max.serverCpu),
              fixed(row.max.backendCpu),
              fixed(row.max.generatorCpu),
              row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`,
            ]),
          ),
        ]
      : []),
    '',
    `Round trips per request (ours, on Redis ${report.redis ?? 'single'}; MONITOR sample, commandstats, INFO stats and serverStatus deltas; bytes are what the Redis primaries received and sent, replication included):`,
    '',
    table(
      [
        'scenario',
        'requests',
        'Redis round trips',
        'Redis commands',
        'Redis bytes in',
        'Redis bytes out',
        'MongoDB ops',
        'Redis detail',
        'MongoDB detail',
      ],
      report.roundTrips.map((trip) => [
        trip.title,
        String(trip.requests),
        fixed(trip.redisRoundTrips / trip.requests, 2),
        fixed(trip.redisCommands / trip.requests, 2),
        fixed((trip.redisBytesIn ?? Number.NaN) / trip.requests),
        fixed((trip.redisBytesOut ?? Number.NaN) / trip.requests),
        fixed(trip.mongoOps / trip.requests, 2),
        perRequest(trip.redisByCommand, trip.requests),
        perRequest(trip.mongoByCommand, trip.requests),
      ]),
    ),
    '',
    `Redis memory per key after the run (MEMORY USAGE, mean of up to 200 keys of each kind): ${Object.entries(report.memoryPerKey ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, { keys, bytes }]) => `${kind} ${fixed(bytes)} B (${keys})`)
      .join(', ')}`,
    '',
    'Targets:',
    ...report.targets.map((target) => `- [${target.met ? 'met' : 'MISSED'}] ${target.name}: ${target.detail}`),
  ];
  return lines.join('\n');
}

function perRequest(counts: Record<string, number>, requests: number): string {
  return Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([name, count]) => `${name} ${(count / requests).toFixed(2)}`)
    .join(', ');
}

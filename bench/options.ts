import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Seconds of each measured run (the maximum-rate run and the half-rate run alike). */
  duration: number;
  /** Seconds of warm-up before each scenario's measured runs (JIT, connection pools). */
  warmup: number;
  connections: number;
  /** Concurrent browser-less sign-ins in the sign-in scenario. */
  signInConcurrency: number;
  /** Client-credentials tokens issued in the memory run. */
  tokens: number;
  /** Requests (sign-ins: flows) per scenario in the round-trip sample, which runs under MONITOR. */
  sampleRequests: number;
  json: string | undefined;
  /** Extra environment for our server, e.g. to compare a setting: --server-env IDP_X=1 */
  serverEnv: Record<string, string>;
  /** Which Redis our server uses: one, a Sentinel-managed primary with a replica, or a 3+3 Cluster. */
  redis: 'single' | 'sentinel' | 'cluster';
  /** Also run the token scenarios with IDP_WORKERS=auto (off with --no-workers). */
  workers: boolean;
  /** --compare BEFORE AFTER: print two saved runs side by side instead of running. */
  compare: [string, string] | undefined;
}

export const USAGE = `usage: npm run bench -- [--quick] [--duration S] [--warmup S] [--connections N]
       [--sign-in-concurrency N] [--tokens N] [--json FILE] [--server-env NAME=VALUE ...] [--no-workers]
       [--redis single|sentinel|cluster]
       npm run bench -- --compare BEFORE.json AFTER.json
  --quick      a short run for development: 3 s runs, 1 s warm-up, 20,000 tokens in the memory run
  --tokens N   client-credentials tokens issued to check memory stays flat (default 1,000,000)
  --no-workers skip the run with IDP_WORKERS=auto (one server process per core)
  --redis K    our server's Redis: one (default), a Sentinel-managed primary with a replica, or a
               Redis Cluster of three primaries with a replica each, all on this machine
  --compare    two --json files side by side: every number, before and after, and its change`;

import { usageError } from '../scripts/lib/cli.ts';
import { AppError } from '../src/errors.ts';

/** The command line as node:util's parseArgs reads it; a bad option is a usage error. */
function readArguments(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        quick: { type: 'boolean', default: false },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
        'sign-in-concurrency': { type: 'string' },
        tokens: { type: 'string' },
        json: { type: 'string' },
        'server-env': { type: 'string', multiple: true },
        redis: { type: 'string', default: 'single' },
        'no-workers': { type: 'boolean', default: false },
        compare: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: true,
    });
  } catch (error) {
    throw usageError(`${(error as Error).message}\n${USAGE}`);
  }
}

export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values: parsed, positionals } = readArguments(argv);
  if (!parsed.compare && positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"\n${USAGE}`);
  if (parsed.compare && positionals.length !== 2) throw usageError(`--compare takes two files: BEFORE.json AFTER.json\n${USAGE}`);
  // Asked for: the usage on stdout and exit 0, as every tool does (bench/main.ts).
  if (parsed.help) throw new AppError('help', USAGE);
  const quick = parsed.quick;
  const number = (name: string, value: string | undefined, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    const result = Number(value.replaceAll('_', '').replaceAll(',', ''));
    if (!Number.isFinite(result) || result < min) throw usageError(`--${name} must be a number of at least ${min}\n${USAGE}`);
    return result;
  };
  const serverEnv: Record<string, string> = {};
  for (const pair of parsed['server-env'] ?? []) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match?.[1]) throw usageError(`--server-env takes NAME=VALUE, got "${pair}"`);
    serverEnv[match[1]] = match[2] ?? '';
  }
  const redis = parsed.redis;
  if (redis !== 'single' && redis !== 'sentinel' && redis !== 'cluster')
    throw usageError(`--redis is single, sentinel or cluster\n${USAGE}`);
  return {
    redis,
    duration: number('duration', parsed.duration, quick ? 3 : 8, 1),
    warmup: number('warmup', parsed.warmup, quick ? 1 : 2, 0),
    connections: Math.round(number('connections', parsed.connections, 32, 1)),
    signInConcurrency: Math.round(number('sign-in-concurrency', parsed['sign-in-concurrency'], 8, 1)),
    tokens: Math.round(number('tokens', parsed.tokens, quick ? 20_000 : 1_000_000, 1000)),
    sampleRequests: quick ? 100 : 300,
    json: parsed.json,
    serverEnv,
    workers: !parsed['no-workers'],
    compare: parsed.compare ? [positionals[0] ?? '', positionals[1] ?? ''] : undefined,
  };
}

import type { BenchReport, Target } from './report.ts';

/** Growth of resident memory over the last nine tenths of the memory run still called flat. */
export const FLAT_RSS_GROWTH = 0.1;

/** Share of the bare library's maximum rate each scenario must reach (issue 19). */
const OF_BASELINE: Record<string, number> = {
  client_credentials: 0.85,
  refresh_token: 0.85,
  userinfo: 0.85,
  introspection: 0.85,
  discovery: 0.9,
  jwks: 0.9,
};

const percent = (value: number) => `${(value * 100).toFixed(0)}%`;

/** The targets of issue 19, each judged from this run's numbers only. */
export function evaluateTargets(report: Omit<BenchReport, 'targets'>): Target[] {
  const targets: Target[] = [];
  const ours = report.rows.filter((row) => row.server === 'ours');
  for (const row of ours) {
    const wanted = OF_BASELINE[row.id];
    if (wanted === undefined || row.ratio === undefined) continue;
    targets.push({
      name: `${row.title} at least ${percent(wanted)} of the baseline`,
      met: row.ratio >= wanted,
      detail: percent(row.ratio),
    });
  }
  const slow = ours.filter((row) => !(row.half.p99 < 25));
  targets.push({
    name: 'p99 under 25 ms at half the maximum rate (token, userinfo, introspection, discovery, JWKS)',
    met: slow.length === 0,
    detail: ours.map((row) => `${row.id} ${row.half.p99.toFixed(1)} ms`).join(', '),
  });

  const { signIn } = report;
  targets.push({
    name: 'sign-in flow at least 90% of the argon2-only ceiling',
    met: signIn.ofCeiling >= 0.9,
    detail: `${signIn.max.rps.toFixed(1)} flows/s of ${signIn.argon2PerSecond.toFixed(1)} verifies/s = ${percent(signIn.ofCeiling)}`,
  });
  const flow = report.roundTrips.find((trip) => trip.id === 'sign_in');
  if (flow && flow.requests > 0) {
    const redis = flow.redisRoundTrips / flow.requests;
    const mongo = flow.mongoOps / flow.requests;
    targets.push({
      name: 'a sign-in costs at most 15 Redis round trips and 1 MongoDB operation',
      met: redis <= 15 && mongo <= 1,
      detail: `${redis.toFixed(2)} Redis round trips, ${mongo.toFixed(2)} MongoDB operations per flow`,
    });
  }

  const errorRuns = [
    ...ours.flatMap((row) => [row.max.errors, row.half.errors]),
    signIn.max.errors,
    signIn.half.errors,
    report.memory.errors,
    ...(report.workers?.rows.map((row) => row.max.errors) ?? []),
  ].reduce((total, count) => total + count, 0);
  targets.push({ name: 'no errors (our server, every run)', met: errorRuns === 0, detail: `${errorRuns} errors` });

  const [first] = report.memory.rssSamplesBytes;
  const last = report.memory.rssSamplesBytes.at(-1);
  if (first !== undefined && last !== undefined) {
    const growth = last / first - 1;
    targets.push({
      name: `memory flat after ${report.memory.tokens} tokens (RSS grows less than ${FLAT_RSS_GROWTH * 100}% after the first tenth)`,
      met: growth < FLAT_RSS_GROWTH,
      detail: `${(first / 1048576).toFixed(0)} MiB -> ${(last / 1048576).toFixed(0)} MiB (${(growth * 100).toFixed(1)}%)`,
    });
  }
  targets.push({
    name: 'start to ready under 1 second',
    met: report.startup.oursReadyMs < 1000,
    detail: `${report.startup.oursReadyMs.toFixed(0)} ms`,
  });
  targets.push({
    name: 'resident memory at ready under 150 MiB',
    met: report.memory.rssStartBytes < 150 * 1048576,
    detail: `${(report.memory.rssStartBytes / 1048576).toFixed(0)} MiB`,
  });
  const workers = report.workers?.rows.find((row) => row.id === 'client_credentials');
  if (report.workers && workers?.ratio !== undefined) {
    const wanted = report.workers.count >= 2 ? 1.7 : 1;
    targets.push({
      name: `IDP_WORKERS=auto (${report.workers.count} processes) serves client credentials at least ${wanted}x one process`,
      met: workers.ratio >= wanted,
      detail: `${workers.ratio.toFixed(2)}x`,
    });
  }
  return targets;
}

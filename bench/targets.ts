import type { BenchReport, Target } from './report.ts';

/** Growth of resident memory over the last nine tenths of the memory run still called flat. */
export const FLAT_RSS_GROWTH = 0.1;

/** The targets of issue #8, each judged from this run's numbers only. */
export function evaluateTargets(report: Omit<BenchReport, 'targets'>): Target[] {
  const targets: Target[] = [];
  const ours = report.rows.filter((row) => row.server === 'ours');
  for (const id of ['client_credentials', 'refresh_token']) {
    const row = ours.find((candidate) => candidate.id === id);
    if (!row?.ratio) continue;
    targets.push({ name: `${row.title} at least 60% of the baseline`, met: row.ratio >= 0.6, detail: `${(row.ratio * 100).toFixed(0)}%` });
  }
  const { signIn } = report;
  targets.push({
    name: 'sign-in flow at least 70% of the argon2-only ceiling',
    met: signIn.ofCeiling >= 0.7,
    detail: `${signIn.max.rps.toFixed(1)} flows/s of ${signIn.argon2PerSecond.toFixed(1)} verifies/s = ${(signIn.ofCeiling * 100).toFixed(0)}%`,
  });
  const slow = ours.filter((row) => !(row.half.p99 < 25));
  targets.push({
    name: 'p99 under 25 ms at half the maximum rate (token, userinfo, introspection, discovery, JWKS)',
    met: slow.length === 0,
    detail: ours.map((row) => `${row.id} ${row.half.p99.toFixed(1)} ms`).join(', '),
  });
  const errorRuns = [
    ...ours.flatMap((row) => [row.max.errors, row.half.errors]),
    signIn.max.errors,
    signIn.half.errors,
    report.memory.errors,
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
    name: 'start to ready under 2 seconds',
    met: report.startup.oursReadyMs < 2000,
    detail: `${report.startup.oursReadyMs.toFixed(0)} ms`,
  });
  return targets;
}

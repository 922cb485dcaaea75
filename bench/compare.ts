import { readFileSync } from 'node:fs';
import { type BenchReport, table } from './report.ts';

/** `npm run bench -- --compare BEFORE.json AFTER.json`: two saved runs (--json) side by side, so a change's effect is one table. */
export function compareReports(beforeFile: string, afterFile: string): string {
  const before = read(beforeFile);
  const after = read(afterFile);
  const change = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined || !Number.isFinite(from) || !Number.isFinite(to) || from === 0
      ? ''
      : `${to >= from ? '+' : ''}${(((to - from) / from) * 100).toFixed(0)}%`;
  const number = (value: number | undefined, digits = 0) => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));
  const percent = (value: number | undefined) => (value === undefined ? '-' : `${(value * 100).toFixed(0)}%`);

  const ours = (report: BenchReport, id: string) => report.rows.find((row) => row.server === 'ours' && row.id === id);
  const ids = [...new Set([...before.rows, ...after.rows].filter((row) => row.server === 'ours').map((row) => row.id))];
  const scenarioRows = ids.map((id) => {
    const [from, to] = [ours(before, id), ours(after, id)];
    return [
      to?.title ?? from?.title ?? id,
      number(from?.max.rps),
      number(to?.max.rps),
      change(from?.max.rps, to?.max.rps),
      percent(from?.ratio),
      percent(to?.ratio),
      number(from?.half.p99, 1),
      number(to?.half.p99, 1),
    ];
  });
  scenarioRows.push([
    '6. sign-in flow (per flow)',
    number(before.signIn.max.rps, 1),
    number(after.signIn.max.rps, 1),
    change(before.signIn.max.rps, after.signIn.max.rps),
    `${percent(before.signIn.ofCeiling)} of argon2`,
    `${percent(after.signIn.ofCeiling)} of argon2`,
    number(before.signIn.half.p99),
    number(after.signIn.half.p99),
  ]);

  const trips = (report: BenchReport, id: string) => report.roundTrips.find((trip) => trip.id === id);
  const tripIds = [...new Set([...before.roundTrips, ...after.roundTrips].map((trip) => trip.id))];
  const tripRows = tripIds.map((id) => {
    const [from, to] = [trips(before, id), trips(after, id)];
    const per = (trip: typeof from, field: 'redisRoundTrips' | 'redisCommands' | 'mongoOps') =>
      trip ? number(trip[field] / trip.requests, 2) : '-';
    return [
      to?.title ?? from?.title ?? id,
      per(from, 'redisRoundTrips'),
      per(to, 'redisRoundTrips'),
      per(from, 'redisCommands'),
      per(to, 'redisCommands'),
      per(from, 'mongoOps'),
      per(to, 'mongoOps'),
    ];
  });

  const mib = (bytes: number | undefined) => (bytes === undefined ? '-' : `${(bytes / 1048576).toFixed(0)} MiB`);
  const targetNames = [...new Set([...before.targets, ...after.targets].map((target) => target.name))];
  const verdict = (report: BenchReport, name: string) => {
    const target = report.targets.find((candidate) => candidate.name === name);
    return target ? `${target.met ? 'met' : 'MISSED'} (${target.detail})` : '-';
  };

  return [
    `Before: ${beforeFile} (${before.machine.date}, ${before.machine.cores} cores, Node ${before.machine.node})`,
    `After:  ${afterFile} (${after.machine.date}, ${after.machine.cores} cores, Node ${after.machine.node})`,
    '',
    table(
      ['scenario', 'req/s before', 'after', 'change', 'of baseline before', 'after', 'p99 at half rate before (ms)', 'after'],
      scenarioRows,
    ),
    '',
    table(['scenario', 'Redis round trips before', 'after', 'Redis commands before', 'after', 'MongoDB ops before', 'after'], tripRows),
    '',
    table(
      ['', 'before', 'after'],
      [
        ['start to ready (ms)', number(before.startup.oursReadyMs), number(after.startup.oursReadyMs)],
        ['resident memory at ready', mib(before.memory.rssStartBytes), mib(after.memory.rssStartBytes)],
        [
          'resident memory after the last tenth of the tokens',
          mib(before.memory.rssSamplesBytes.at(-1)),
          mib(after.memory.rssSamplesBytes.at(-1)),
        ],
      ],
    ),
    '',
    table(
      ['target', 'before', 'after'],
      targetNames.map((name) => [name, verdict(before, name), verdict(after, name)]),
    ),
  ].join('\n');
}

function read(file: string): BenchReport {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
  } catch (error) {
    throw new Error(`cannot read the bench report ${file}: ${(error as Error).message}`);
  }
}

/**
 * Measures what one sign-in costs in argon2id on this machine, for the configured parameters of each
 * environment: npm run measure:argon2 [-- --iterations 20]
 * A timing belongs here, not in a test.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { type Argon2Parameters, createPasswordHasher } from '../src/users/password-hasher.ts';
import { parseCommandLine, runCli, type ToolHelp, usageError } from './lib/cli.ts';

const HELP: ToolHelp = {
  usage: 'npm run measure:argon2 [-- --iterations N]',
  summary:
    'Measures what one sign-in costs in argon2id on this machine, with the parameters of the development and the production configuration (config/*.json): the median and p90 of N verifies.',
  options: [['--iterations N', 'verifies per configuration (default 20)']],
  example: 'npm run measure:argon2 -- --iterations 50',
};

/** The argon2 parameters config/<env>.json layers over config/default.json. */
function argon2For(env: string): Argon2Parameters {
  const read = (file: string): { argon2?: Partial<Argon2Parameters> } => {
    try {
      return JSON.parse(readFileSync(new URL(`../config/${file}`, import.meta.url), 'utf8')) as { argon2?: Partial<Argon2Parameters> };
    } catch {
      return {};
    }
  };
  return { ...read('default.json').argon2, ...read(`${env}.json`).argon2 } as Argon2Parameters;
}
await runCli('measure:argon2', async () => {
  const { values, positionals } = parseCommandLine({ iterations: { type: 'string', default: '20' } }, HELP);
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"; usage: ${HELP.usage}`);
  const iterations = Number(values.iterations);
  if (!Number.isInteger(iterations) || iterations < 1) throw usageError('--iterations must be a positive whole number');
  await measure(iterations);
});

async function measure(iterations: number): Promise<void> {
  process.stdout.write(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}\n`);
  for (const env of ['development', 'production']) {
    const parameters = argon2For(env);
    const hasher = createPasswordHasher(parameters);
    const hash = await hasher.hash('correct horse battery staple');
    await hasher.verify(hash, 'correct horse battery staple'); // warm-up
    const samples: number[] = [];
    for (let index = 0; index < iterations; index += 1) {
      const started = performance.now();
      await hasher.verify(hash, 'correct horse battery staple');
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)] ?? 0;
    const p90 = samples[Math.floor(samples.length * 0.9)] ?? 0;
    process.stdout.write(
      `${env.padEnd(12)} m=${parameters.memoryCost} KiB t=${parameters.timeCost} p=${parameters.parallelism}: ` +
        `verify median ${median.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms (${iterations} runs)\n`,
    );
  }
}

/**
 * Measures what one sign-in costs in argon2id on this machine, for the configured parameters of each
 * environment: npm run measure:argon2 [-- --iterations 20]
 * A timing belongs here, not in a test.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { type Argon2Parameters, createPasswordHasher } from '../src/users/password-hasher.ts';

const iterationsArg = process.argv.indexOf('--iterations');
const iterations = iterationsArg > 0 ? Number(process.argv[iterationsArg + 1]) : 20;
if (!Number.isInteger(iterations) || iterations < 1) {
  process.stderr.write('--iterations must be a positive whole number\n');
  process.exit(2);
}

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

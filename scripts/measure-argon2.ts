/**
 * Measures what one sign-in costs in argon2id on this machine, for the configured parameters of each
 * environment: npm run measure:argon2 [-- --iterations 20]
 * A timing belongs here, not in a test.
 */
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createPasswordHasher } from '../src/accounts/password-hasher.ts';
import { loadConfig } from '../src/config/load-config.ts';

const iterationsArg = process.argv.indexOf('--iterations');
const iterations = iterationsArg > 0 ? Number(process.argv[iterationsArg + 1]) : 20;
if (!Number.isInteger(iterations) || iterations < 1) {
  process.stderr.write('--iterations must be a positive whole number\n');
  process.exit(2);
}

const configDir = fileURLToPath(new URL('../config/', import.meta.url));
process.stdout.write(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}\n`);
for (const env of ['development', 'production']) {
  const loaded = loadConfig({
    env: { NODE_ENV: env, ISSUER: 'https://id.example.com', MONGODB_URI: 'mongodb://x', REDIS_URL: 'redis://x', IDP_COOKIE_KEYS: 'k'.repeat(32), IDP_JWKS: '{"keys":[{"kty":"RSA","d":"x"}]}' },
    configDir,
  });
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const parameters = loaded.config.argon2;
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

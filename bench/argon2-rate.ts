import { type Argon2Parameters, createPasswordHasher } from '../src/users/password-hasher.ts';

/** libuv's default thread pool, where argon2 runs in the server too. */
const CONCURRENCY = 4;

/**
 * Password verifies per second with the server's parameters, as many at once as the server's
 * thread pool runs: the most sign-ins per second this machine could do if nothing else cost
 * anything (the ceiling of the sign-in scenario).
 */
export async function measureArgon2Rate(
  parameters: Argon2Parameters,
  seconds: number,
): Promise<{ perSecond: number; verifies: number; medianMs: number }> {
  const hasher = createPasswordHasher(parameters);
  const password = 'a benchmark passphrase of ordinary length';
  const hash = await hasher.hash(password);
  if (!(await hasher.verify(hash, password))) throw new Error('argon2 verify failed on its own hash');
  const durations: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const at = performance.now();
      await hasher.verify(hash, password);
      durations.push(performance.now() - at);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - started) / 1000;
  durations.sort((a, b) => a - b);
  return {
    perSecond: durations.length / elapsed,
    verifies: durations.length,
    medianMs: durations[Math.floor(durations.length / 2)] ?? Number.NaN,
  };
}

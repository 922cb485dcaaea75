import { describe, expect, test } from '@jest/globals';
import { createPasswordHasher } from '../../../src/users/password-hasher.ts';

const minimum = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

describe('password hasher', () => {
  const hasher = createPasswordHasher(minimum);

  test('hashes with argon2id and the configured parameters, as a PHC string with a random salt', async () => {
    const first = await hasher.hash('correct horse battery staple');
    const second = await hasher.hash('correct horse battery staple');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(first).not.toBe(second);
  });

  test('verifies the right password only, and treats a malformed hash as a failed verify', async () => {
    const hash = await hasher.hash('ünïcödé pass phrase ✓');
    expect(await hasher.verify(hash, 'ünïcödé pass phrase ✓')).toBe(true);
    expect(await hasher.verify(hash, 'ünïcödé pass phrase ✗')).toBe(false);
    expect(await hasher.verify('not a hash', 'anything')).toBe(false);
  });

  test('asks for a re-hash when stored parameters differ from the configured ones', async () => {
    const weakHash = await hasher.hash('some password here');
    const stronger = createPasswordHasher({ memoryCost: 65536, timeCost: 3, parallelism: 1 });
    expect(hasher.needsRehash(weakHash)).toBe(false);
    expect(stronger.needsRehash(weakHash)).toBe(true);
    expect(stronger.needsRehash(await stronger.hash('some password here'))).toBe(false);
  });

  test('the dummy verify runs a real argon2 verify', async () => {
    const started = performance.now();
    await hasher.verifyDummy('whatever');
    await hasher.verifyDummy('whatever');
    // two argon2 operations at 19 MiB cannot take under a millisecond
    expect(performance.now() - started).toBeGreaterThan(1);
  });
});

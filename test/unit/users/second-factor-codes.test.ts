import { randomBytes } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { TOTP } from 'otpauth';
import { createSecretBox } from '../../../src/clients/secret-box.ts';
import { createMemoryTokenStore } from '../../../src/storage/memory/memory-token-store.ts';
import { deriveFactorKeys } from '../../../src/users/mfa/factor-keys.ts';
import { createRecoveryCodes, RECOVERY_CODE_COUNT } from '../../../src/users/mfa/recovery-codes.ts';
import { createTotp } from '../../../src/users/mfa/totp.ts';

const key = () => randomBytes(32).toString('base64url');

describe('authenticator app codes (RFC 6238)', () => {
  let now = Date.UTC(2030, 0, 1, 12, 0, 10);
  const keys = deriveFactorKeys([key()]);
  const totp = createTotp({ box: createSecretBox(keys.sealing), tokens: createMemoryTokenStore(), issuer: 'Acme ID', now: () => now });
  // What the person's app shows at `at`, computed independently of the server's own code.
  const codeAt = (secret: string, at: number) => new TOTP({ secret }).generate({ timestamp: at });

  test('a new secret is 160 bits of base32, and its URI says SHA1, 6 digits, 30 s, the product and the account', () => {
    const secret = totp.newSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(totp.uri('ada', secret));
    expect(`${uri.protocol}//${uri.host}`).toBe('otpauth://totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Acme ID:ada');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ issuer: 'Acme ID', secret, algorithm: 'SHA1', digits: '6', period: '30' });
  });

  test('the code of this step and of one step either side is accepted, each once; two steps away is not', async () => {
    const secret = totp.newSecret();
    expect(await totp.check('u1', secret, codeAt(secret, now))).toBe('ok');
    expect(await totp.check('u1', secret, codeAt(secret, now))).toBe('replayed');
    expect(await totp.check('u2', secret, codeAt(secret, now))).toBe('ok');
    expect(await totp.check('u1', secret, codeAt(secret, now - 30_000))).toBe('ok');
    expect(await totp.check('u1', secret, codeAt(secret, now + 30_000))).toBe('ok');
    expect(await totp.check('u1', secret, codeAt(secret, now - 60_000))).toBe('invalid');
    expect(await totp.check('u1', secret, codeAt(secret, now + 60_000))).toBe('invalid');
    now += 30_000;
    // The step just used is remembered whichever moment it is checked at.
    expect(await totp.check('u1', secret, codeAt(secret, now))).toBe('replayed');
  });

  test('of codes sent at once, one is accepted', async () => {
    const secret = totp.newSecret();
    const code = codeAt(secret, now);
    const results = await Promise.all(Array.from({ length: 5 }, () => totp.check('u3', secret, code)));
    expect(results.sort()).toEqual(['ok', 'replayed', 'replayed', 'replayed', 'replayed']);
  });

  test('spaces are ignored; anything but six digits is refused without a lookup', async () => {
    const secret = totp.newSecret();
    const code = codeAt(secret, now);
    expect(await totp.check('u4', secret, `${code.slice(0, 3)} ${code.slice(3)}`)).toBe('ok');
    for (const wrong of ['', '12345', '1234567', 'abcdef', `${code}0`]) expect(await totp.check('u4', secret, wrong)).toBe('invalid');
  });

  test('a secret sealed with an old key still opens after a rotation, and is marked for sealing again', () => {
    const [oldKey, newKey] = [key(), key()];
    const before = createTotp({ box: createSecretBox(deriveFactorKeys([oldKey]).sealing), tokens: createMemoryTokenStore(), issuer: 'x' });
    const after = createTotp({
      box: createSecretBox(deriveFactorKeys([newKey, oldKey]).sealing),
      tokens: createMemoryTokenStore(),
      issuer: 'x',
    });
    const sealed = before.seal('JBSWY3DPEHPK3PXP');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(after.open(sealed)).toBe('JBSWY3DPEHPK3PXP');
    expect(after.needsReseal(sealed)).toBe(true);
    expect(after.needsReseal(after.seal('JBSWY3DPEHPK3PXP'))).toBe(false);
    // The key that seals client secrets cannot open it: the factor key is derived apart.
    expect(() => createSecretBox([oldKey]).open(sealed)).toThrow();
  });
});

describe('recovery codes', () => {
  const keys = deriveFactorKeys([key()]);
  const codes = createRecoveryCodes(keys.hashing);

  test('ten distinct codes of twelve unambiguous characters, stored only as keyed hashes bound to the user', () => {
    const { codes: plain, hashes } = codes.generate('user-1');
    expect(plain).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(plain).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of plain) expect(code).toMatch(/^[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}$/);
    for (const hash of hashes) for (const code of plain) expect(hash).not.toContain(code.replace(/-/g, ''));
    const [first = ''] = plain;
    expect(codes.candidates('user-1', first)).toEqual([hashes[0]]);
    expect(codes.candidates('user-1', ` ${first.toUpperCase().replace(/-/g, ' ')} `)).toEqual([hashes[0]]);
    expect(codes.candidates('user-2', first)).not.toEqual([hashes[0]]);
  });

  test('a hash made before a key rotation is still found with the old key', () => {
    const [oldKey, newKey] = [key(), key()];
    const { codes: plain, hashes } = createRecoveryCodes(deriveFactorKeys([oldKey]).hashing).generate('u');
    const rotated = createRecoveryCodes(deriveFactorKeys([newKey, oldKey]).hashing);
    expect(rotated.candidates('u', plain[0] ?? '')[1]).toBe(hashes[0]);
  });

  test('only text shaped like a code is looked up', () => {
    expect(codes.looksLike('abcd-efgh-jkmn')).toBe(true);
    expect(codes.looksLike('ABCD EFGH JKMN')).toBe(true);
    for (const wrong of ['123456', 'abcd-efgh-jkm', 'abcd-efgh-jkmo', 'abcd-efgh-jkmn-p']) expect(codes.looksLike(wrong)).toBe(false);
  });
});

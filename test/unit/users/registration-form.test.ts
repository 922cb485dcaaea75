import { beforeAll, describe, expect, test } from '@jest/globals';
import { translateFields, translator } from '../../../src/i18n/translate.ts';
import { createPasswordPolicy, type PasswordPolicy } from '../../../src/users/password-policy.ts';
import { parseRegistrationForm, type RegistrationField } from '../../../src/users/registration-form.ts';
import { testBlocklist } from '../../support/test-app.ts';

let policy: PasswordPolicy;
beforeAll(async () => {
  policy = createPasswordPolicy({ minLength: 15, maxLength: 128, blocklist: await testBlocklist(15), productName: 'Identity' });
});
/** The form returns message keys; these tests read them as an English page shows them. */
function englishErrors(body: unknown) {
  const result = parseRegistrationForm(body, policy);
  return result.ok ? undefined : translateFields<RegistrationField>(translator('en'), result.errors);
}

const valid = {
  username: 'alice.smith_1',
  email: '  Alice@Example.COM ',
  password: 'a long enough passphrase',
  confirmPassword: 'a long enough passphrase',
};

describe('registration form', () => {
  test('accepts a valid form and normalizes the email', () => {
    expect(parseRegistrationForm(valid, policy)).toEqual({
      ok: true,
      value: { username: 'alice.smith_1', email: 'alice@example.com', password: 'a long enough passphrase' },
    });
  });

  test.each([
    ['ab', /3 to 32 characters/],
    ['a'.repeat(33), /3 to 32 characters/],
    ['has space', /3 to 32 characters/],
    ['at@sign', /3 to 32 characters/],
    ['', /Enter a username/],
  ])('refuses the username %j', (username, message) => {
    const errors = englishErrors({ ...valid, username });
    expect(errors?.username).toMatch(message);
    expect(Object.keys(errors ?? {})).toEqual(['username']);
  });

  test.each(['plainaddress', 'no-at.example.com', 'two@@example.com', 'x@', ''])('refuses the email %j', (email) => {
    expect(englishErrors({ ...valid, email })?.email).toMatch(/email/);
  });

  test('reports every wrong field at once', () => {
    const body = { username: 'x', email: 'nope', password: 'short', confirmPassword: 'other' };
    expect(parseRegistrationForm(body, policy)).toEqual({
      ok: false,
      errors: {
        username: { key: 'validation.usernameFormat' },
        email: { key: 'validation.emailFormat' },
        password: { key: 'validation.passwordTooShort', params: { min: 15 } },
        // The confirmation differs too: said in the same pass, not after the password is fixed.
        confirmPassword: { key: 'validation.passwordMismatch' },
      },
      wellFormed: {},
    });
    // Well-formed identifiers come back, so the store can say in the same pass whether they are taken.
    const taken = parseRegistrationForm({ ...body, username: 'Grace.H', email: ' Grace@Example.com ' }, policy);
    expect(taken.ok || taken.wellFormed).toEqual({ username: 'Grace.H', email: 'grace@example.com' });
    expect(englishErrors(body)?.password).toBe('Use at least 15 characters. A few unrelated words make a strong, memorable password.');
  });

  test('refuses mismatched confirmation, and passwords over the cap without truncating', () => {
    expect(englishErrors({ ...valid, confirmPassword: 'a long enough passphrasE' })?.confirmPassword).toBe(
      'The two passwords do not match.',
    );
    const long = 'x'.repeat(129);
    expect(englishErrors({ ...valid, password: long, confirmPassword: long })?.password).toMatch(/at most 128 characters/);
  });

  test('counts code points, not UTF-16 units, and normalizes Unicode', () => {
    const emoji = '😀'.repeat(15); // 15 code points, 30 UTF-16 units
    expect(parseRegistrationForm({ ...valid, password: emoji, confirmPassword: emoji }, policy).ok).toBe(true);
    const composed = 'caf\u00e9 au lait, s\u2019il vous pla\u00eet';
    const decomposed = composed.normalize('NFD');
    const result = parseRegistrationForm({ ...valid, password: decomposed, confirmPassword: composed }, policy);
    expect(result.ok && result.value.password).toBe(composed.normalize('NFKC'));
  });

  test('non-string fields (arrays, missing) are treated as empty, not as errors of the server', () => {
    const result = parseRegistrationForm({ username: ['a', 'b'], email: undefined }, policy);
    expect(!result.ok && Object.keys(result.errors).sort()).toEqual(['email', 'password', 'username']);
    expect(parseRegistrationForm('garbage', policy).ok).toBe(false);
  });
});

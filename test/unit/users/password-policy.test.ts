import { beforeAll, describe, expect, test } from '@jest/globals';
import { message, translate } from '../../../src/i18n/translate.ts';
import type { PasswordBlocklist } from '../../../src/users/password-blocklist.ts';
import { createPasswordPolicy, type PasswordPolicy } from '../../../src/users/password-policy.ts';
import { testBlocklist } from '../../support/test-app.ts';

describe('password policy', () => {
  let blocklist: PasswordBlocklist;
  let policy: PasswordPolicy;
  /** The policy returns message keys; people read them in English (or another language). */
  const english = (password: string, context?: Parameters<PasswordPolicy['check']>[1]) => {
    const problem = policy.check(password, context);
    return problem && translate('en', problem.key, problem.params);
  };
  const BLOCKLISTED = message('validation.passwordBlocklisted');
  const CONTEXT = message('validation.passwordContext');
  beforeAll(async () => {
    blocklist = await testBlocklist(15);
    policy = createPasswordPolicy({ minLength: 15, maxLength: 128, blocklist, productName: 'Acme Identity Cloud' });
  });

  test('ships a list of over 100,000 common and breached passwords', () => {
    expect(blocklist.listed).toBeGreaterThan(400_000);
    expect(blocklist.size).toBeGreaterThan(3_000); // those of 15+ characters are kept in memory
  });

  test('length: the configured minimum, at least 64 accepted, a hard cap with its reason', () => {
    expect(policy.check('fourteen chars')).toEqual({ key: 'validation.passwordTooShort', params: { min: 15 } });
    expect(english('fourteen chars')).toMatch(/at least 15 characters/);
    expect(policy.check('fifteen chars!!')).toBeUndefined();
    expect(policy.check('w'.repeat(64))).toBeUndefined();
    expect(policy.check('w'.repeat(128))).toBeUndefined();
    expect(english('w'.repeat(129))).toBe('Use at most 128 characters; longer passwords are not accepted.');
  });

  test('no composition rules: lower-case words alone are fine', () => {
    expect(policy.check('lantern otter breakfast')).toBeUndefined();
  });

  test.each(['1qaz2wsx3edc4rfv', 'qwerty123456789', 'QWERTY123456789', '12345678901234567890'])(
    'refuses the listed password %s',
    (password) => {
      expect(policy.check(password)).toEqual(BLOCKLISTED);
    },
  );

  test('refuses the username, the email, its local part and the service name', () => {
    const context = { username: 'captain.marvelous', email: 'carol.danvers.1968@example.com' };
    expect(policy.check('Captain.Marvelous', context)).toEqual(CONTEXT);
    expect(policy.check('carol.danvers.1968@example.com', context)).toEqual(CONTEXT);
    expect(policy.check('carol.danvers.1968', context)).toEqual(CONTEXT);
    expect(policy.check('acme identity cloud', context)).toEqual(CONTEXT);
    expect(policy.check('captain marvelous flies high', context)).toBeUndefined();
  });
});

import { codePointLength } from './normalize.ts';

export interface PasswordPolicyOptions {
  /** Minimum length in code points. */
  minLength: number;
  /** Hard cap in code points; bounds request size. Longer input is refused, never truncated. */
  maxLength: number;
}

export interface PasswordPolicy {
  readonly minLength: number;
  readonly maxLength: number;
  /** A message saying why the password cannot be used, or undefined when it can. */
  check(password: string): string | undefined;
}

/**
 * Length-only rules, no composition rules and no expiry (NIST SP 800-63B-4 §3.1.1.2,
 * OWASP ASVS 5.0 6.2.1, 6.2.5, 6.2.9).
 */
export function createPasswordPolicy(options: PasswordPolicyOptions): PasswordPolicy {
  return {
    ...options,
    check(password) {
      const length = codePointLength(password);
      if (length < options.minLength) {
        return `Use at least ${options.minLength} characters. A few unrelated words make a strong, memorable password.`;
      }
      if (length > options.maxLength) {
        return `Use at most ${options.maxLength} characters; longer passwords are not accepted.`;
      }
      return undefined;
    },
  };
}

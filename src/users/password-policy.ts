import { type Message, type MessageKey, message } from '../i18n/translate.ts';
import { codePointLength, normalizePassword } from './normalize.ts';
import type { PasswordBlocklist } from './password-blocklist.ts';

export interface PasswordPolicyOptions {
  /** Minimum length in code points. */
  minLength: number;
  /** Hard cap in code points; bounds request size. Longer input is refused, never truncated. */
  maxLength: number;
  blocklist: PasswordBlocklist;
  /** The service's own name, refused as a password (a context-specific word). */
  productName: string;
}

/** Who the password is for: their own identifiers are refused as passwords. */
export interface PasswordContext {
  username?: string;
  email?: string;
}

export interface PasswordPolicy {
  readonly minLength: number;
  readonly maxLength: number;
  /** Why the password cannot be used (a message key, translated by the page), or undefined when it can. */
  check(password: string, context?: PasswordContext): Message | undefined;
  /**
   * The rule of every form and tool that sets a password: NFKC-normalized, present (when `missing`
   * names the message for an empty one), within the policy, and equal to `confirm` when one is
   * given. Returns the normalized password, or the field at fault and why.
   */
  checkNew(raw: string, options: NewPasswordOptions): NewPasswordCheck;
}

export interface NewPasswordOptions {
  context: PasswordContext;
  /** The typed confirmation, when the form has one. */
  confirm?: string;
  /** The message for an empty password; without it an empty one is judged by the policy. */
  missing?: MessageKey;
}

export type NewPasswordCheck = { ok: true; password: string } | { ok: false; field: 'password' | 'confirmPassword'; message: Message };

/**
 * Length, a blocklist of common and breached passwords, and context words; no composition rules and
 * no expiry (NIST SP 800-63B-4 §3.1.1.2; OWASP ASVS 5.0 6.2.1, 6.2.4, 6.2.5, 6.2.9, 6.2.11, 6.2.12).
 * Messages say why, so the person can pick another.
 */
export function createPasswordPolicy({ minLength, maxLength, blocklist, productName }: PasswordPolicyOptions): PasswordPolicy {
  return {
    minLength,
    maxLength,
    check(password, context = {}) {
      const length = codePointLength(password);
      if (length < minLength) return message('validation.passwordTooShort', { min: minLength });
      if (length > maxLength) return message('validation.passwordTooLong', { max: maxLength });
      if (blocklist.has(password)) return message('validation.passwordBlocklisted');
      if (contextWords(context, productName).some((word) => word === fold(password))) return message('validation.passwordContext');
      return undefined;
    },
    checkNew(raw, { context, confirm, missing }) {
      const password = normalizePassword(raw);
      const problem = password === '' && missing ? message(missing) : this.check(password, context);
      if (problem) return { ok: false, field: 'password', message: problem };
      if (confirm !== undefined && normalizePassword(confirm) !== password) {
        return { ok: false, field: 'confirmPassword', message: message('validation.passwordMismatch') };
      }
      return { ok: true, password };
    },
  };
}

function fold(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
}

function contextWords({ username, email }: PasswordContext, productName: string): string[] {
  const words = [productName, username, email, email?.split('@')[0]];
  return words.filter((word): word is string => typeof word === 'string' && word.trim() !== '').map(fold);
}

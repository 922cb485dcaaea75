import { z } from 'zod';
import { type Message, message } from '../i18n/translate.ts';
import { normalizeEmail, normalizePassword } from './normalize.ts';
import type { PasswordPolicy } from './password-policy.ts';

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{3,32}$/;

export type RegistrationField = 'username' | 'email' | 'password' | 'confirmPassword';
/** Per-field messages as keys: the page translates them into its language. */
export type FieldErrors<F extends string> = Partial<Record<F, Message>>;

export interface RegistrationInput {
  username: string;
  email: string;
  password: string;
}

export type RegistrationParse =
  | { ok: true; value: RegistrationInput }
  /** `wellFormed`: the username and email that are themselves right, so the store can say whether they are taken. */
  | { ok: false; errors: FieldErrors<RegistrationField>; wellFormed: Partial<Pick<RegistrationInput, 'username' | 'email'>> };

const text = z.preprocess((value) => (typeof value === 'string' ? value : ''), z.string());

/**
 * Validates the registration form. Returns one message per wrong field, every one of them at once
 * (a password the policy refuses and a confirmation that does not match are both reported), so the
 * page can show each next to its input. Email comes back normalized; the password NFKC-normalized.
 */
export function parseRegistrationForm(body: unknown, policy: PasswordPolicy): RegistrationParse {
  const fields = z
    .object({ username: text, email: text, password: text, confirmPassword: text })
    .parse(typeof body === 'object' && body !== null ? body : {});

  const errors: FieldErrors<RegistrationField> = {};
  const username = fields.username.trim();
  if (username === '') errors.username = message('validation.usernameMissing');
  else if (!USERNAME_PATTERN.test(username)) errors.username = message('validation.usernameFormat');

  const email = normalizeEmail(fields.email);
  if (email === '') errors.email = message('validation.emailMissing');
  else if (email.length > 254 || !z.email().safeParse(email).success) errors.email = message('validation.emailFormat');

  const password = policy.checkNew(fields.password, {
    context: { username, email },
    confirm: fields.confirmPassword,
    missing: 'validation.passwordMissing',
  });
  if (!password.ok) errors[password.field] = password.message;
  // checkNew stops at the policy; the confirmation is wrong too when it differs.
  if (
    !password.ok &&
    password.field === 'password' &&
    fields.confirmPassword !== '' &&
    normalizePassword(fields.confirmPassword) !== normalizePassword(fields.password)
  )
    errors.confirmPassword = message('validation.passwordMismatch');

  if (!password.ok || Object.keys(errors).length > 0) {
    const wellFormed = { ...(errors.username ? {} : { username }), ...(errors.email ? {} : { email }) };
    return { ok: false, errors, wellFormed };
  }
  return { ok: true, value: { username, email, password: password.password } };
}

import { type Message, message } from '../i18n/translate.ts';

/**
 * Normal forms used for lookups and hashing. Applied identically at registration and sign-in, so the
 * same typed input always matches (NIST SP 800-63B-4 §3.1.1.2: normalize Unicode before hashing).
 */

/** NFKC, so that e.g. a full-width or composed character typed on another keyboard still matches. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Emails are compared and stored trimmed, NFKC-normalized and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFKC').toLowerCase();
}

/** Usernames are unique regardless of case: "Alice" and "alice" are the same account. */
export function usernameKey(username: string): string {
  return username.trim().normalize('NFKC').toLowerCase();
}

/** Length as people count it: Unicode code points, not UTF-16 units (NIST SP 800-63B-4). */
export function codePointLength(value: string): number {
  return [...value].length;
}

/** A full name: trimmed, NFC, at most 100 code points, no control characters; empty means none. */
export function parseFullName(raw: string): { ok: true; name: string | undefined } | { ok: false; error: Message } {
  const name = raw.trim().normalize('NFC');
  if (codePointLength(name) > 100) return { ok: false, error: message('validation.nameTooLong') };
  if (/\p{Cc}/u.test(name)) return { ok: false, error: message('validation.nameControl') };
  return { ok: true, name: name === '' ? undefined : name };
}

/** The key a sign-in identifier is looked up and throttled by: an email or a username, normalized. */
export function loginKey(login: string): string {
  const trimmed = login.trim();
  return trimmed.includes('@') ? normalizeEmail(trimmed) : usernameKey(trimmed);
}

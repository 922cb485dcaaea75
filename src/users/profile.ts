import { z } from 'zod';
import { type Message, message } from '../i18n/translate.ts';
import { DuplicateUserError, type UserRecord, type UserRepository } from '../storage/ports.ts';
import { type LoginThrottle, throttleSubject } from './login-throttle.ts';
import { normalizeEmail, normalizePassword, parseFullName, usernameKey } from './normalize.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { PasswordPolicy } from './password-policy.ts';
import type { FieldErrors } from './registration-form.ts';
import { USERNAME_PATTERN } from './registration-form.ts';
import { TAKEN_MESSAGES } from './user-service.ts';

export type ProfileField = 'name' | 'username' | 'email' | 'currentPassword';
export type PasswordField = 'currentPassword' | 'password' | 'confirmPassword';

/** `retryAfterSeconds`: the current password was not checked, the sign-in throttle made it wait. */
export type ProfileResult =
  | { ok: true; user: UserRecord; emailChanged: boolean }
  | { ok: false; errors: FieldErrors<ProfileField>; retryAfterSeconds?: number };
export type ChangePasswordResult = { ok: true } | { ok: false; errors: FieldErrors<PasswordField>; retryAfterSeconds?: number };

/** A current-password check: right, wrong, or not made while the throttle makes the account or address wait. */
type PasswordCheck = { ok: true } | { ok: false; retryAfterSeconds?: number };

export interface Profiles {
  /**
   * Full name (optional, the `name` claim), username and email, validated like registration; a new
   * email needs the current password (ASVS 5.0 7.5.1).
   */
  updateProfile(user: UserRecord, form: Record<string, string>, ip: string): Promise<ProfileResult>;
  /** Needs the current password; the new one passes the password policy (ASVS 5.0 6.2.3). */
  changePassword(user: UserRecord, form: Record<string, string>, ip: string): Promise<ChangePasswordResult>;
}

const WRONG_PASSWORD = message('validation.wrongCurrentPassword');

export function createProfiles({
  users,
  hasher,
  policy,
  throttle,
}: {
  users: UserRepository;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  /** The sign-in's own throttle: a current-password field is one more way to guess the password. */
  throttle: LoginThrottle;
}): Profiles {
  /**
   * The password is checked exactly as at sign-in: the attempt is reserved first, on the address and
   * on the account (the same counters as the sign-in page), so a stolen session cannot guess it here
   * any faster than on the sign-in page (ASVS 5.0 6.3.1). The hash is read afresh by email (never
   * from the user cache): the password may have just changed.
   */
  const currentPasswordOk = async (user: UserRecord, value: string | undefined, ip: string): Promise<PasswordCheck> => {
    if (!value) return { ok: false };
    const byAddress = await throttle.reserveAddress(ip);
    if (!byAddress.ok) return { ok: false, retryAfterSeconds: byAddress.retryAfterSeconds };
    const subject = throttleSubject(user.id, user.email);
    const byAccount = await throttle.reserveAccount(subject);
    if (!byAccount.ok) return { ok: false, retryAfterSeconds: byAccount.retryAfterSeconds };
    const fresh = await users.findByEmail(user.email);
    if (fresh?.id !== user.id || fresh.passwordHash === undefined || !(await hasher.verify(fresh.passwordHash, normalizePassword(value))))
      return { ok: false };
    await throttle.succeeded(subject, ip);
    return { ok: true };
  };
  const wrong = (check: PasswordCheck & { ok: false }, missing: Message = WRONG_PASSWORD) =>
    check.retryAfterSeconds ? message('validation.currentPasswordThrottled', { seconds: check.retryAfterSeconds }) : missing;

  return {
    async updateProfile(user, form, ip) {
      const errors: FieldErrors<ProfileField> = {};
      const name = parseFullName(form.name ?? '');
      if (!name.ok) errors.name = name.error;
      const username = (form.username ?? '').trim();
      if (!USERNAME_PATTERN.test(username)) errors.username = message('validation.usernameFormat');
      const email = normalizeEmail(form.email ?? '');
      if (email.length > 254 || !z.email().safeParse(email).success) errors.email = message('validation.emailFormat');
      const emailChanged = email !== user.email;
      const check = emailChanged && !errors.email ? await currentPasswordOk(user, form.currentPassword, ip) : { ok: true as const };
      if (!check.ok)
        errors.currentPassword = wrong(check, form.currentPassword ? WRONG_PASSWORD : message('validation.currentPasswordForEmail'));
      const retry = !check.ok && check.retryAfterSeconds ? { retryAfterSeconds: check.retryAfterSeconds } : {};
      if (!name.ok || Object.keys(errors).length > 0) return { ok: false, errors, ...retry };
      try {
        const updated = await users.updateProfile(user.id, { username, usernameKey: usernameKey(username), email });
        if (name.name === updated.name) return { ok: true, user: updated, emailChanged };
        await users.setName(user.id, name.name);
        return { ok: true, user: { ...updated, name: name.name }, emailChanged };
      } catch (error) {
        if (!(error instanceof DuplicateUserError)) throw error;
        for (const field of error.fields) errors[field] = TAKEN_MESSAGES[field];
        return { ok: false, errors };
      }
    },

    async changePassword(user, form, ip) {
      const errors: FieldErrors<PasswordField> = {};
      const check = await currentPasswordOk(user, form.currentPassword, ip);
      if (!check.ok) errors.currentPassword = wrong(check);
      const password = policy.checkNew(form.password ?? '', {
        context: user,
        confirm: form.confirmPassword ?? '',
        missing: 'validation.newPasswordMissing',
      });
      if (!password.ok) errors[password.field] = password.message;
      if (!password.ok || Object.keys(errors).length > 0) {
        return { ok: false, errors, ...(!check.ok && check.retryAfterSeconds ? { retryAfterSeconds: check.retryAfterSeconds } : {}) };
      }
      await users.updatePasswordHash(user.id, await hasher.hash(password.password));
      return { ok: true };
    },
  };
}

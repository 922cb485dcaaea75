import { z } from 'zod';
import { message } from '../i18n/translate.ts';
import { DuplicateUserError, type UserRecord, type UserRepository } from '../storage/ports.ts';
import { normalizeEmail, normalizePassword, parseFullName, usernameKey } from './normalize.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { PasswordPolicy } from './password-policy.ts';
import type { FieldErrors } from './registration-form.ts';
import { USERNAME_PATTERN } from './registration-form.ts';
import { TAKEN_MESSAGES } from './user-service.ts';

export type ProfileField = 'name' | 'username' | 'email' | 'currentPassword';
export type PasswordField = 'currentPassword' | 'password' | 'confirmPassword';

export type ProfileResult = { ok: true; user: UserRecord; emailChanged: boolean } | { ok: false; errors: FieldErrors<ProfileField> };
export type ChangePasswordResult = { ok: true } | { ok: false; errors: FieldErrors<PasswordField> };

export interface Profiles {
  /**
   * Full name (optional, the `name` claim), username and email, validated like registration; a new
   * email needs the current password (ASVS 5.0 7.5.1).
   */
  updateProfile(user: UserRecord, form: Record<string, string>): Promise<ProfileResult>;
  /** Needs the current password; the new one passes the password policy (ASVS 5.0 6.2.3). */
  changePassword(user: UserRecord, form: Record<string, string>): Promise<ChangePasswordResult>;
  /** Whether `value` is the user's current password (read afresh), for other changes that need it. */
  isCurrentPassword(user: UserRecord, value: string | undefined): Promise<boolean>;
}

const WRONG_PASSWORD = message('validation.wrongCurrentPassword');

export function createProfiles({
  users,
  hasher,
  policy,
}: {
  users: UserRepository;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
}): Profiles {
  // The hash is read afresh by email (never from the user cache): the password may have just changed.
  const currentPasswordOk = async (user: UserRecord, value: string | undefined) => {
    if (!value) return false;
    const fresh = await users.findByEmail(user.email);
    return fresh?.id === user.id && fresh.passwordHash !== undefined && (await hasher.verify(fresh.passwordHash, normalizePassword(value)));
  };

  return {
    isCurrentPassword: currentPasswordOk,
    async updateProfile(user, form) {
      const errors: FieldErrors<ProfileField> = {};
      const name = parseFullName(form.name ?? '');
      if (!name.ok) errors.name = name.error;
      const username = (form.username ?? '').trim();
      if (!USERNAME_PATTERN.test(username)) errors.username = message('validation.usernameFormat');
      const email = normalizeEmail(form.email ?? '');
      if (email.length > 254 || !z.email().safeParse(email).success) errors.email = message('validation.emailFormat');
      const emailChanged = email !== user.email;
      if (emailChanged && !errors.email && !(await currentPasswordOk(user, form.currentPassword))) {
        errors.currentPassword = form.currentPassword ? WRONG_PASSWORD : message('validation.currentPasswordForEmail');
      }
      if (!name.ok || Object.keys(errors).length > 0) return { ok: false, errors };
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

    async changePassword(user, form) {
      const errors: FieldErrors<PasswordField> = {};
      if (!(await currentPasswordOk(user, form.currentPassword))) errors.currentPassword = WRONG_PASSWORD;
      const password = policy.checkNew(form.password ?? '', {
        context: user,
        confirm: form.confirmPassword ?? '',
        missing: 'validation.newPasswordMissing',
      });
      if (!password.ok) errors[password.field] = password.message;
      if (!password.ok || Object.keys(errors).length > 0) return { ok: false, errors };
      await users.updatePasswordHash(user.id, await hasher.hash(password.password));
      return { ok: true };
    },
  };
}

import type { Logger } from 'pino';
import type { SecurityEvents } from '../audit/security-events.ts';
import { type Message, message } from '../i18n/translate.ts';
import type { RateLimit } from '../rate-limit.ts';
import { DuplicateUserError, type UserRecord, type UserRepository } from '../storage/ports.ts';
import { type LoginThrottle, throttleSubject } from './login-throttle.ts';
import { loginKey, normalizePassword, usernameKey } from './normalize.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { PasswordPolicy } from './password-policy.ts';
import { type FieldErrors, parseRegistrationForm, type RegistrationField } from './registration-form.ts';

export type RegisterResult =
  | { ok: true; user: UserRecord }
  | { ok: false; errors: FieldErrors<RegistrationField> }
  /** Too many accounts created from the address this window: nothing was hashed or stored. */
  | { ok: false; errors?: undefined; retryAfterSeconds: number };

/**
 * A refusal names the account the login belongs to, when it belongs to one, so the attempt is
 * kept in that account's security events; it is never shown to whoever tried.
 */
export type AuthenticateResult =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: 'invalid' | 'disabled'; accountId?: string | undefined }
  /** Too many attempts from the address: the person is told to wait. */
  | { ok: false; reason: 'address_throttled'; retryAfterSeconds: number; accountId?: undefined }
  /** The account (or identifier) waits out its delay: answered exactly like `invalid`. */
  | { ok: false; reason: 'account_throttled'; retryAfterSeconds: number; accountId?: string | undefined };

export interface UserService {
  readonly passwordPolicy: PasswordPolicy;
  /**
   * Validates the registration form and creates the user; a taken username/email is a field error.
   * With `ip` (a person on the registration page), a valid form first takes one of the address's
   * registrations for this window, before the password is hashed.
   */
  register(form: unknown, ip?: string): Promise<RegisterResult>;
  /**
   * Checks a login (email or username) and password from `ip`: the attempt is counted by the
   * throttle first (the address, then the account), the password checked only if both allow it,
   * and the counts settled after. Unknown accounts and throttled ones cost one argon2 verify too, so
   * timing does not tell them apart. `disabled` is only reported after a correct password.
   */
  authenticate(login: string, password: string, ip: string): Promise<AuthenticateResult>;
  findById(id: string): Promise<UserRecord | undefined>;
  /** The user a sign-in identifier (email or username, as typed) names. */
  findByLogin(login: string): Promise<UserRecord | undefined>;
}

export const TAKEN_MESSAGES: Record<'username' | 'email', Message> = {
  username: message('validation.usernameTaken'),
  email: message('validation.emailTaken'),
};

export interface UserServiceDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  throttle: LoginThrottle;
  registrations: RateLimit;
  events: SecurityEvents;
  logger: Logger;
}

export function createUserService({ users, hasher, policy, throttle, registrations, events, logger }: UserServiceDeps): UserService {
  const findByLogin = (login: string) => {
    const trimmed = login.trim();
    if (trimmed === '' || trimmed.length > 254) return Promise.resolve(undefined);
    const key = loginKey(trimmed);
    return key.includes('@') ? users.findByEmail(key) : users.findByUsernameKey(key);
  };

  return {
    passwordPolicy: policy,
    async register(form, ip) {
      const parsed = parseRegistrationForm(form, policy);
      if (!parsed.ok) {
        const { username, email } = parsed.wellFormed;
        if (username === undefined && email === undefined) return { ok: false, errors: parsed.errors };
        // Every error in one pass: say which well-formed identifier is taken too. That answers what a
        // registration answers, so it takes one of the address's registrations (when none is left,
        // the form's own errors are shown without it).
        if (ip !== undefined && !(await registrations.take(ip)).ok) return { ok: false, errors: parsed.errors };
        const [nameTaken, emailTaken] = await Promise.all([
          username === undefined ? undefined : users.findByUsernameKey(usernameKey(username)),
          email === undefined ? undefined : users.findByEmail(email),
        ]);
        return {
          ok: false,
          errors: {
            ...(nameTaken ? { username: TAKEN_MESSAGES.username } : {}),
            ...(emailTaken ? { email: TAKEN_MESSAGES.email } : {}),
            ...parsed.errors,
          },
        };
      }
      if (ip !== undefined) {
        const slot = await registrations.take(ip);
        if (!slot.ok) {
          await events.record('registration.throttled', { details: { retryAfter: slot.retryAfterSeconds } });
          return { ok: false, retryAfterSeconds: slot.retryAfterSeconds };
        }
      }
      const { username, email, password } = parsed.value;
      try {
        const user = await users.create({
          username,
          usernameKey: usernameKey(username),
          email,
          passwordHash: await hasher.hash(password),
        });
        // Registration on the page (with an address); the admin tools record their own event.
        if (ip !== undefined) await events.record('account.registered', { accountId: user.id });
        return { ok: true, user };
      } catch (error) {
        if (!(error instanceof DuplicateUserError)) throw error;
        const fields = error.fields.length > 0 ? error.fields : (['email'] as const);
        const errors: FieldErrors<RegistrationField> = {};
        for (const field of fields) errors[field] = TAKEN_MESSAGES[field];
        return { ok: false, errors };
      }
    },

    async authenticate(login, rawPassword, ip) {
      const byAddress = await throttle.reserveAddress(ip);
      if (!byAddress.ok) return { ok: false, reason: 'address_throttled', retryAfterSeconds: byAddress.retryAfterSeconds };
      const password = normalizePassword(rawPassword);
      const user = await findByLogin(login);
      const subject = throttleSubject(user?.id, login);
      const byAccount = await throttle.reserveAccount(subject);
      const accountId = user?.id;
      if (!byAccount.ok) {
        await hasher.verifyDummy(password.slice(0, policy.maxLength * 4));
        return { ok: false, reason: 'account_throttled', retryAfterSeconds: byAccount.retryAfterSeconds, accountId };
      }
      // Bound the work an anonymous request can cause before hashing (request-size hygiene).
      if (password.length > policy.maxLength * 4) return { ok: false, reason: 'invalid', accountId };
      // An account without a password (made through an upstream provider) costs a verify too, so
      // timing does not tell it from one with a password.
      if (!user?.passwordHash) {
        await hasher.verifyDummy(password);
        return { ok: false, reason: 'invalid', accountId };
      }
      const passwordHash = user.passwordHash;
      if (!(await hasher.verify(passwordHash, password))) return { ok: false, reason: 'invalid', accountId };
      // The password was right: not a failure, whatever follows.
      await throttle.succeeded(subject, ip);
      if (!user.active) return { ok: false, reason: 'disabled', accountId };
      if (hasher.needsRehash(passwordHash)) {
        await users.updatePasswordHash(user.id, await hasher.hash(password));
        logger.info({ event: 'account.password_rehashed', userId: user.id }, 'password re-hashed with current parameters');
      }
      return { ok: true, user };
    },

    findById: (id) => users.findById(id),
    findByLogin,
  };
}

import { randomBytes } from 'node:crypto';
import { AdminError } from '../errors.ts';
import { translate, translateFields, translator } from '../i18n/translate.ts';
import type { Stores, UserRecord } from '../storage/ports.ts';
import type { UserService } from './user-service.ts';
import { normalizeEmail, normalizePassword, parseFullName, usernameKey } from './normalize.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { PasswordPolicy } from './password-policy.ts';
import type { PasswordReset } from './password-reset.ts';


export interface UserAdminDeps {
  userService: UserService;
  stores: Pick<Stores, 'users' | 'endSessionsOf' | 'grantsOf' | 'oidcAdapter'>;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  passwordReset: Pick<PasswordReset, 'linkFor'>;
}

/**
 * What `npm run users` does, as a service: the same rules as the pages (registration validation,
 * password policy), and the same consequences (disabling or deleting ends sessions and revokes apps).
 */
export function createUserAdmin({ userService, stores, hasher, policy, passwordReset }: UserAdminDeps) {
  const { users } = stores;

  /** A user by id, username or email. */
  const find = async (reference: string): Promise<UserRecord> => {
    const trimmed = reference.trim();
    const user =
      (await users.findById(trimmed)) ??
      (trimmed.includes('@') ? await users.findByEmail(normalizeEmail(trimmed)) : await users.findByUsernameKey(usernameKey(trimmed)));
    if (!user) throw new AdminError(`no user "${reference}" (give an id, a username or an email)`);
    return user;
  };

  /** Ends every session and revokes every app of the user (ASVS 5.0 7.4.2). */
  const cutOff = async (user: UserRecord) => {
    const grants = await stores.grantsOf(user.id);
    const grantAdapter = stores.oidcAdapter('Grant');
    const tokenAdapter = stores.oidcAdapter('AccessToken');
    for (const grant of grants) {
      if (!grant.jti) continue;
      await tokenAdapter.revokeByGrantId(grant.jti);
      await grantAdapter.destroy(grant.jti);
    }
    return { sessionsEnded: await stores.endSessionsOf(user.id), grantsRevoked: grants.length };
  };

  return {
    find,

    /** Creates a user; without a password, a random one is generated and returned once. */
    async create(input: { username: string; email: string; password?: string; verified?: boolean; name?: string }) {
      const name = fullName(input.name ?? '');
      const password = input.password ?? randomBytes(18).toString('base64url');
      const result = await userService.register({ ...input, password, confirmPassword: password });
      if (!result.ok) throw new AdminError(Object.entries(translateFields(translator('en'), result.errors)).map(([field, text]) => `${field}: ${text}`).join('; '));
      if (input.verified) await users.markEmailVerified(result.user.id, result.user.email);
      if (name) await users.setName(result.user.id, name);
      return { user: await find(result.user.id), generatedPassword: input.password ? undefined : password };
    },

    list: (options: { search?: string; page: number; perPage: number }) =>
      users.list({ search: options.search, skip: (options.page - 1) * options.perPage, limit: options.perPage }),

    async setActive(reference: string, active: boolean) {
      const user = await find(reference);
      await users.setActive(user.id, active);
      const cut = active ? { sessionsEnded: 0, grantsRevoked: 0 } : { sessionsEnded: await stores.endSessionsOf(user.id), grantsRevoked: 0 };
      return { user: await find(user.id), ...cut };
    },

    async setPassword(reference: string, rawPassword: string) {
      const user = await find(reference);
      const password = normalizePassword(rawPassword);
      const problem = policy.check(password, { username: user.username, email: user.email });
      // The tool speaks English, like the rest of its output.
      if (problem) throw new AdminError(`password: ${translate('en', problem.key, problem.params)}`);
      await users.updatePasswordHash(user.id, await hasher.hash(password));
      return { user, sessionsEnded: await stores.endSessionsOf(user.id) };
    },

    /** A single-use password reset link for the user, e.g. to send through another channel. */
    async resetLink(reference: string) {
      const user = await find(reference);
      return { user, link: await passwordReset.linkFor(user) };
    },

    /** Sets the full name (the `name` claim), or removes it when `name` is empty. */
    async setName(reference: string, name: string) {
      const user = await find(reference);
      await users.setName(user.id, fullName(name));
      return { user: await find(user.id) };
    },

    async verifyEmail(reference: string) {
      const user = await find(reference);
      await users.markEmailVerified(user.id, user.email);
      return { user: await find(user.id) };
    },

    async delete(reference: string) {
      const user = await find(reference);
      const cut = await cutOff(user);
      await users.delete(user.id);
      return { user, ...cut };
    },
  };
}

function fullName(raw: string): string | undefined {
  const parsed = parseFullName(raw);
  if (!parsed.ok) throw new AdminError(`name: ${translate('en', parsed.error.key, parsed.error.params)}`);
  return parsed.name;
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;

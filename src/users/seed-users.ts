import { translate } from '../i18n/translate.ts';
import { type ClaimValue, DuplicateUserError, type UserRepository } from '../storage/ports.ts';
import { usernameKey } from './normalize.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { PasswordPolicy } from './password-policy.ts';

/** A user a seed file declares, already checked for shape and normalized (src/seed/seed-file.ts). */
export interface SeedUser {
  username: string;
  email: string;
  verified: boolean;
  name?: string | undefined;
  /** Checked by the password policy, then hashed; or `passwordHash`, an argon2 PHC string taken as it is. */
  password?: string | undefined;
  passwordHash?: string | undefined;
  groups: string[];
  claims: Record<string, ClaimValue>;
}

export interface SeedUsersDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
}

/**
 * Users declared by a seed file, created when missing and left alone when present (by username or
 * email), so applying the file at every start changes nothing after the first: a password changed
 * since, or a group added with the users tool, stays as it is.
 */
export function createSeedUsers({ users, hasher, policy }: SeedUsersDeps) {
  /** The normalized password; `problems` has reported any the policy refuses, so one here is a caller's mistake. */
  const checkedPassword = (user: SeedUser): string => {
    const checked = policy.checkNew(user.password ?? '', { context: user });
    if (!checked.ok) throw new Error(`the password of ${user.username} does not meet the policy`);
    return checked.password;
  };
  return {
    /** Why each user's password cannot be used (the policy of every form and tool), as `path: message` lines. */
    problems(seedUsers: SeedUser[], path = 'users'): string[] {
      return seedUsers.flatMap((user, index) => {
        if (user.password === undefined) return [];
        const checked = policy.checkNew(user.password, { context: user });
        return checked.ok ? [] : [`${path}[${index}].password: ${translate('en', checked.message.key, checked.message.params)}`];
      });
    },

    /** Creates the user in one write unless one with its username or email exists. */
    async ensure(user: SeedUser): Promise<'created' | 'present'> {
      const key = usernameKey(user.username);
      if ((await users.findByUsernameKey(key)) ?? (await users.findByEmail(user.email))) return 'present';
      const passwordHash = user.passwordHash ?? (await hasher.hash(checkedPassword(user)));
      try {
        await users.create({
          username: user.username,
          usernameKey: key,
          email: user.email,
          passwordHash,
          emailVerified: user.verified,
          ...(user.name ? { name: user.name } : {}),
          groups: user.groups,
          claims: user.claims,
        });
        return 'created';
      } catch (error) {
        // Another instance starting with the same file created it first.
        if (error instanceof DuplicateUserError) return 'present';
        throw error;
      }
    },
  };
}

export type SeedUsers = ReturnType<typeof createSeedUsers>;

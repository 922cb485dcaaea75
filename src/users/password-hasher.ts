import argon2 from 'argon2';

export interface Argon2Parameters {
  /** KiB */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** True when the stored hash uses other (e.g. weaker) parameters than the configured ones. */
  needsRehash(passwordHash: string): boolean;
  /** Runs a full verify against a throwaway hash, so unknown accounts cost the same as known ones. */
  verifyDummy(password: string): Promise<void>;
}

/**
 * argon2id with the configured parameters, stored as a PHC string so parameters can change over
 * time (OWASP Password Storage Cheat Sheet; RFC 9106).
 */
export function createPasswordHasher(parameters: Argon2Parameters): PasswordHasher {
  const options = { type: argon2.argon2id, ...parameters } as const;
  let dummyHash: Promise<string> | undefined;

  return {
    hash: (password) => argon2.hash(password, options),
    async verify(passwordHash, password) {
      try {
        return await argon2.verify(passwordHash, password);
      } catch {
        // A malformed stored hash must not become a 500 or a sign-in; it is a failed verify.
        return false;
      }
    },
    needsRehash: (passwordHash) => {
      try {
        return argon2.needsRehash(passwordHash, options);
      } catch {
        return true;
      }
    },
    async verifyDummy(password) {
      dummyHash ??= argon2.hash('dummy password used only to equalise timing', options);
      await argon2.verify(await dummyHash, password).catch(() => false);
    },
  };
}

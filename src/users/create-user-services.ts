import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { createMailer } from '../mail/mailer.ts';
import type { Stores } from '../storage/ports.ts';
import { createUserService } from './user-service.ts';
import { createEmailVerification } from './email-verification.ts';
import type { PasswordBlocklist } from './password-blocklist.ts';
import { createPasswordHasher } from './password-hasher.ts';
import { createPasswordPolicy } from './password-policy.ts';
import { createPasswordReset } from './password-reset.ts';
import { createProfiles } from './profile.ts';
import { createUserAdmin } from './user-admin.ts';

export interface UserServicesDeps {
  config: Config;
  stores: Stores;
  blocklist: PasswordBlocklist;
  viewsDir: string;
  logger: Logger;
}

/** Everything about people's accounts, wired once for the server and the users tool alike. */
export function createUserServices({ config, stores, blocklist, viewsDir, logger }: UserServicesDeps) {
  const log = logger.child({ module: 'users' });
  const hasher = createPasswordHasher(config.argon2);
  const policy = createPasswordPolicy({ ...config.password, blocklist, productName: config.productName });
  const userService = createUserService({ users: stores.users, hasher, policy, logger: log });
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, viewsDir, productName: config.productName, logger });
  const verification = createEmailVerification({
    users: stores.users,
    tokens: stores.tokens,
    mailer,
    issuer: config.issuer,
    ttlSeconds: config.emailVerificationTtl,
    defaultLocale: config.defaultLocale,
    logger: log,
  });
  const passwordReset = createPasswordReset({
    users: stores.users,
    tokens: stores.tokens,
    attempts: stores.attempts,
    hasher,
    policy,
    mailer,
    endSessionsOf: stores.endSessionsOf,
    issuer: config.issuer,
    settings: config.passwordReset,
    defaultLocale: config.defaultLocale,
    logger: log,
  });
  return {
    hasher,
    policy,
    userService,
    mailer,
    verification,
    passwordReset,
    profiles: createProfiles({ users: stores.users, hasher, policy }),
    admin: createUserAdmin({ userService, stores, hasher, policy, passwordReset }),
  };
}

export type UserServices = ReturnType<typeof createUserServices>;

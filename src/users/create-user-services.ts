import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { Mailer } from '../mail/mailer.ts';
import { createRateLimit } from '../rate-limit.ts';
import type { Stores } from '../storage/ports.ts';
import { createEmailVerification } from './email-verification.ts';
import { createLoginThrottle } from './login-throttle.ts';
import type { PasswordBlocklist } from './password-blocklist.ts';
import { createPasswordHasher } from './password-hasher.ts';
import { createPasswordPolicy } from './password-policy.ts';
import { createPasswordReset } from './password-reset.ts';
import { createProfiles } from './profile.ts';
import { createUserSessions } from './sessions.ts';
import { createUserAdmin } from './user-admin.ts';
import { createUserService } from './user-service.ts';

export interface UserServicesDeps {
  config: Config;
  stores: Stores;
  blocklist: PasswordBlocklist;
  mailer: Mailer;
  logger: Logger;
}

/** Everything about people's accounts, wired once (by src/assemble.ts) for the server and the tools alike. */
export function createUserServices({ config, stores, blocklist, mailer, logger }: UserServicesDeps) {
  const log = logger.child({ module: 'users' });
  const hasher = createPasswordHasher(config.argon2);
  const policy = createPasswordPolicy({ ...config.password, blocklist, productName: config.productName });
  const throttle = createLoginThrottle(stores.attempts, config.bruteForce);
  const registrations = createRateLimit(stores.attempts, 'register-ip', {
    max: config.registration.maxPerIp,
    windowSeconds: config.registration.windowSeconds,
  });
  const userService = createUserService({ users: stores.users, hasher, policy, throttle, registrations, logger: log });
  const sessions = createUserSessions(stores);
  const verification = createEmailVerification({
    users: stores.users,
    tokens: stores.tokens,
    attempts: stores.attempts,
    limits: config.verificationEmail,
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
    sessions,
    issuer: config.issuer,
    settings: config.passwordReset,
    defaultLocale: config.defaultLocale,
    logger: log,
  });
  return {
    userService,
    /** Accounts made per address and window: the registration form's, and the one accounts made through upstreams count against too. */
    registrations,
    sessions,
    verification,
    passwordReset,
    profiles: createProfiles({ users: stores.users, hasher, policy }),
    admin: createUserAdmin({ userService, users: stores.users, sessions, hasher, policy, passwordReset }),
  };
}

export type UserServices = ReturnType<typeof createUserServices>;

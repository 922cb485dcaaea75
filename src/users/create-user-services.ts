import type { Logger } from 'pino';
import type { SecurityEvents } from '../audit/security-events.ts';
import { createSecretBox } from '../clients/secret-box.ts';
import type { Config } from '../config/schema.ts';
import type { Mailer } from '../mail/mailer.ts';
import { createRateLimit } from '../rate-limit.ts';
import type { Stores } from '../storage/ports.ts';
import { type AccountNotices, createAccountNotices } from './account-notices.ts';
import { createCredentialChanges } from './credentials-changed.ts';
import { createEmailVerification } from './email-verification.ts';
import { createLoginThrottle } from './login-throttle.ts';
import { createCodeFailures } from './mfa/code-failures.ts';
import { createFactorChanges } from './mfa/factor-changes.ts';
import { deriveFactorKeys } from './mfa/factor-keys.ts';
import { createPasskeys } from './mfa/passkeys.ts';
import { createRecoveryCodes } from './mfa/recovery-codes.ts';
import { createSecondFactors } from './mfa/second-factors.ts';
import { createTotp } from './mfa/totp.ts';
import type { PasswordBlocklist } from './password-blocklist.ts';
import { createPasswordHasher } from './password-hasher.ts';
import { createPasswordPolicy } from './password-policy.ts';
import { createPasswordReset } from './password-reset.ts';
import { createProfiles } from './profile.ts';
import { createSeedUsers } from './seed-users.ts';
import { createUserSessions } from './sessions.ts';
import { createUserAdmin } from './user-admin.ts';
import { createUserService } from './user-service.ts';

export interface UserServicesDeps {
  config: Config;
  stores: Stores;
  blocklist: PasswordBlocklist;
  mailer: Mailer;
  events: SecurityEvents;
  logger: Logger;
  /**
   * The keys second factors are protected with (IDP_CLIENT_SECRET_KEYS, or in the embedded mode keys
   * made for the run); without them nothing can be set up (see src/users/mfa/factor-keys.ts).
   */
  factorSecretKeys?: readonly string[] | undefined;
}

/** Everything about people's accounts, wired once (by src/assemble.ts) for the server and the tools alike. */
export function createUserServices({ config, stores, blocklist, mailer, events, logger, factorSecretKeys }: UserServicesDeps) {
  const log = logger.child({ module: 'users' });
  const hasher = createPasswordHasher(config.argon2);
  const policy = createPasswordPolicy({ ...config.password, blocklist, productName: config.productName });
  const throttle = createLoginThrottle(stores.attempts, config.bruteForce);
  const registrations = createRateLimit(stores.attempts, 'register-ip', {
    max: config.registration.maxPerIp,
    windowSeconds: config.registration.windowSeconds,
  });
  const userService = createUserService({ users: stores.users, hasher, policy, throttle, registrations, events, logger: log });
  const sessions = createUserSessions(stores);
  const credentials = createCredentialChanges(stores.users);
  const notices = createAccountNotices({ mailer, issuer: config.issuer, defaultLocale: config.defaultLocale, logger: log });
  const codeFailures = createCodeFailures(stores.attempts);
  const verification = createEmailVerification({
    users: stores.users,
    tokens: stores.tokens,
    attempts: stores.attempts,
    limits: config.verificationEmail,
    mailer,
    issuer: config.issuer,
    ttlSeconds: config.emailVerificationTtl,
    defaultLocale: config.defaultLocale,
    events,
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
    credentials,
    issuer: config.issuer,
    settings: config.passwordReset,
    defaultLocale: config.defaultLocale,
    events,
    logger: log,
  });
  return {
    events,
    userService,
    ...createFactorServices({ config, stores, logger: log, factorSecretKeys, notices, codeFailures }),
    factorChanges: createFactorChanges({ credentials, events, notices }),
    credentials,
    /** Accounts made per address and window: the registration form's, and the one accounts made through upstreams count against too. */
    registrations,
    sessions,
    verification,
    passwordReset,
    profiles: createProfiles({ users: stores.users, hasher, policy, throttle }),
    seedUsers: createSeedUsers({ users: stores.users, hasher, policy }),
    admin: createUserAdmin({
      userService,
      users: stores.users,
      sessions,
      hasher,
      policy,
      passwordReset,
      events,
      credentials,
      notices,
      codeFailures,
      resetLinkMinutes: Math.round(config.passwordReset.ttlSeconds / 60),
      claimScopes: config.claimScopes,
    }),
  };
}

export type UserServices = ReturnType<typeof createUserServices>;

/** Second factors and passkeys: their own throttle (scope `mfa`) with the password's limits. */
function createFactorServices({
  config,
  stores,
  logger,
  factorSecretKeys,
  notices,
  codeFailures,
}: Pick<UserServicesDeps, 'config' | 'stores' | 'logger' | 'factorSecretKeys'> & {
  notices: AccountNotices;
  codeFailures: ReturnType<typeof createCodeFailures>;
}) {
  const keys = factorSecretKeys && factorSecretKeys.length > 0 ? deriveFactorKeys(factorSecretKeys) : undefined;
  const totp = keys
    ? createTotp({ box: createSecretBox(keys.sealing, 'TOTP secret'), tokens: stores.tokens, issuer: config.productName })
    : undefined;
  return {
    secondFactors: createSecondFactors({
      users: stores.users,
      tokens: stores.tokens,
      totp,
      recoveryCodes: keys && createRecoveryCodes(keys.hashing),
      throttle: createLoginThrottle(stores.attempts, config.bruteForce, Date.now, 'mfa'),
      failures: codeFailures,
      notices,
      logger,
    }),
    passkeys: createPasskeys({
      users: stores.users,
      tokens: stores.tokens,
      issuer: config.issuer,
      productName: config.productName,
      logger,
    }),
  };
}

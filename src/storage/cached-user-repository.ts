import { type AnnouncedCacheOptions, createAnnouncedCache } from './announced-cache.ts';
import type { ChangeFeed, UserRecord, UserRepository } from './ports.ts';

/**
 * Users by id with a per-instance cache, and every write announced on the change feed.
 *
 * oidc-provider resolves the account (findAccount) on every refresh and userinfo request, to refuse
 * a disabled or deleted one; without a cache each of those pays a MongoDB read. Any change to a
 * user, from any instance or from `npm run users`, drops every instance's copy at once (see
 * createAnnouncedCache for the bound when an announcement is lost). Lookups by email or username,
 * which sign-in and the account page's current-password checks use, always read the database, so
 * a password is never checked against an old hash.
 */
export function withUserChanges(
  users: UserRepository,
  feed: ChangeFeed,
  options: AnnouncedCacheOptions,
): UserRepository & { start(): Promise<void> } {
  const cache = createAnnouncedCache<UserRecord>(feed, 'user', options);
  /** Runs a write, then announces it, whatever the write returned. */
  const announced = async <T>(id: string, write: Promise<T>): Promise<T> => {
    const result = await write;
    await cache.announce(id);
    return result;
  };
  return {
    start: () => cache.start(),
    findById: (id) => cache.read(id, () => users.findById(id)),
    findByUsernameKey: (key) => users.findByUsernameKey(key),
    findByEmail: (email) => users.findByEmail(email),
    list: (options) => users.list(options),
    create: (user) => users.create(user),
    updatePasswordHash: (id, passwordHash) => announced(id, users.updatePasswordHash(id, passwordHash)),
    setActive: (id, active) => announced(id, users.setActive(id, active)),
    delete: (id) => announced(id, users.delete(id)),
    updateProfile: (id, profile) => announced(id, users.updateProfile(id, profile)),
    setName: (id, name) => announced(id, users.setName(id, name)),
    markEmailVerified: (id, email) => announced(id, users.markEmailVerified(id, email)),
    addGroups: (id, groups) => announced(id, users.addGroups(id, groups)),
    removeGroups: (id, groups) => announced(id, users.removeGroups(id, groups)),
    updateClaims: (id, changes) => announced(id, users.updateClaims(id, changes)),
    // Second factors are part of the cached record; passkeys are not (read at every use).
    setTotp: (id, totp) => announced(id, users.setTotp(id, totp)),
    setRecoveryCodes: (id, hashes) => announced(id, users.setRecoveryCodes(id, hashes)),
    removeRecoveryCode: (id, hash) => announced(id, users.removeRecoveryCode(id, hash)),
    resetFactors: (id) => announced(id, users.resetFactors(id)),
    setCredentialsChangedAt: (id, at, keepSession) => announced(id, users.setCredentialsChangedAt(id, at, keepSession)),
    addPasskey: (passkey) => users.addPasskey(passkey),
    findPasskey: (credentialId) => users.findPasskey(credentialId),
    passkeysOf: (userId) => users.passkeysOf(userId),
    recordPasskeyUse: (credentialId, use) => users.recordPasskeyUse(credentialId, use),
    renamePasskey: (userId, credentialId, name) => users.renamePasskey(userId, credentialId, name),
    removePasskey: (userId, credentialId) => users.removePasskey(userId, credentialId),
    // Links are not part of the cached record, and a sign-in through an upstream reads them afresh.
    findByLink: (issuer, subject) => users.findByLink(issuer, subject),
    linksOf: (id) => users.linksOf(id),
    addLink: (id, link) => users.addLink(id, link),
    removeLink: (id, link, options) => users.removeLink(id, link, options),
  };
}

import { randomUUID } from 'node:crypto';
import { AppError } from '../../errors.ts';
import {
  DuplicateLinkError,
  DuplicateUserError,
  type PasskeyRecord,
  type UniqueUserField,
  type UpstreamLink,
  type UserFactorRepository,
  type UserRecord,
  type UserRepository,
} from '../ports.ts';

const linkKey = ({ issuer, subject }: Pick<UpstreamLink, 'issuer' | 'subject'>) => `${issuer}#${subject}`;

/** Users in process memory, for the embedded mode and tests. Same uniqueness rules as MongoDB. */
export function createMemoryUserRepository(): UserRepository {
  const byId = new Map<string, UserRecord>();
  const passkeys = new Map<string, PasskeyRecord>();
  /** Upstream identity (issuer#subject) -> its link and the user it belongs to: one user per identity. */
  const links = new Map<string, { userId: string; link: UpstreamLink }>();
  // Callers get copies, as from a database, so they cannot change the stored record.
  const copy = (user: UserRecord): UserRecord => ({
    ...user,
    groups: [...user.groups],
    claims: structuredClone(user.claims),
    factors: {
      recoveryCodes: [...user.factors.recoveryCodes],
      ...(user.factors.totp ? { totp: { ...user.factors.totp, createdAt: new Date(user.factors.totp.createdAt) } } : {}),
    },
    ...(user.credentialsChangedAt ? { credentialsChangedAt: new Date(user.credentialsChangedAt) } : {}),
    createdAt: new Date(user.createdAt),
    updatedAt: new Date(user.updatedAt),
  });
  const find = (predicate: (user: UserRecord) => boolean) => {
    for (const user of byId.values()) if (predicate(user)) return copy(user);
    return undefined;
  };

  return {
    async create(user) {
      const fields: UniqueUserField[] = [];
      if (find((existing) => existing.usernameKey === user.usernameKey)) fields.push('username');
      if (find((existing) => existing.email === user.email)) fields.push('email');
      if (fields.length > 0) throw new DuplicateUserError(fields);
      const now = new Date();
      const record: UserRecord = {
        id: randomUUID(),
        emailVerified: false,
        active: true,
        ...user,
        groups: [...new Set(user.groups ?? [])],
        claims: structuredClone(user.claims ?? {}),
        factors: { recoveryCodes: [] },
        createdAt: now,
        updatedAt: now,
      };
      byId.set(record.id, record);
      return copy(record);
    },
    findById: async (id) => find((user) => user.id === id),
    findByUsernameKey: async (usernameKey) => find((user) => user.usernameKey === usernameKey),
    findByEmail: async (email) => find((user) => user.email === email),
    async updatePasswordHash(id, passwordHash) {
      const user = byId.get(id);
      if (user) byId.set(id, { ...user, passwordHash, updatedAt: new Date() });
    },
    async updateProfile(id, profile) {
      const user = byId.get(id);
      if (!user) throw new Error(`user ${id} not found`);
      const fields: UniqueUserField[] = [];
      if (find((other) => other.id !== id && other.usernameKey === profile.usernameKey)) fields.push('username');
      if (find((other) => other.id !== id && other.email === profile.email)) fields.push('email');
      if (fields.length > 0) throw new DuplicateUserError(fields);
      const updated = { ...user, ...profile, emailVerified: user.email === profile.email && user.emailVerified, updatedAt: new Date() };
      byId.set(id, updated);
      return copy(updated);
    },
    async markEmailVerified(id, email) {
      const user = byId.get(id);
      if (!user || user.email !== email) return false;
      byId.set(id, { ...user, emailVerified: true, updatedAt: new Date() });
      return true;
    },
    async list({ search, skip, limit }) {
      const needle = search?.toLowerCase();
      const matching = [...byId.values()]
        .filter((user) => !needle || user.usernameKey.includes(needle) || user.email.includes(needle))
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      return { users: matching.slice(skip, skip + limit).map(copy), total: matching.length };
    },
    async delete(id) {
      for (const passkey of [...passkeys.values()]) if (passkey.userId === id) passkeys.delete(passkey.id);
      for (const [key, entry] of links) if (entry.userId === id) links.delete(key);
      return byId.delete(id);
    },
    async findByLink(issuer, subject) {
      const entry = links.get(linkKey({ issuer, subject }));
      return entry ? find((user) => user.id === entry.userId) : undefined;
    },
    async linksOf(id) {
      return [...links.values()]
        .filter((entry) => entry.userId === id)
        .map((entry) => ({ ...entry.link, linkedAt: new Date(entry.link.linkedAt) }))
        .sort((a, b) => a.linkedAt.getTime() - b.linkedAt.getTime());
    },
    async addLink(id, link) {
      if (!byId.has(id)) throw new AppError('not_found', `user ${id} not found`, { status: 404 });
      const key = linkKey(link);
      if (links.has(key)) throw new DuplicateLinkError();
      const stored: UpstreamLink = { ...link, linkedAt: new Date() };
      links.set(key, { userId: id, link: stored });
      return { ...stored, linkedAt: new Date(stored.linkedAt) };
    },
    async removeLink(id, link, { keepOneWayIn = false } = {}) {
      const key = linkKey(link);
      if (links.get(key)?.userId !== id) return 'not_found';
      const others = [...links.values()].filter((entry) => entry.userId === id).length - 1;
      if (keepOneWayIn && others === 0 && !byId.get(id)?.passwordHash) return 'last_way_in';
      links.delete(key);
      return 'removed';
    },
    async setActive(id, active) {
      const user = byId.get(id);
      if (user) byId.set(id, { ...user, active, updatedAt: new Date() });
    },
    async setName(id, name) {
      const user = byId.get(id);
      if (!user) return;
      const { name: _previous, ...rest } = user;
      byId.set(id, { ...rest, ...(name === undefined ? {} : { name }), updatedAt: new Date() });
    },
    async addGroups(id, groups) {
      const user = byId.get(id);
      if (!user) return false;
      byId.set(id, { ...user, groups: [...new Set([...user.groups, ...groups])], updatedAt: new Date() });
      return true;
    },
    async removeGroups(id, groups) {
      const user = byId.get(id);
      if (!user) return false;
      byId.set(id, { ...user, groups: user.groups.filter((group) => !groups.includes(group)), updatedAt: new Date() });
      return true;
    },
    async updateClaims(id, { set = {}, remove = [] }) {
      if (remove.some((name) => Object.hasOwn(set, name))) throw new Error('a claim cannot be set and removed at once');
      const user = byId.get(id);
      if (!user) return false;
      const claims = Object.fromEntries(Object.entries(user.claims).filter(([name]) => !remove.includes(name)));
      byId.set(id, { ...user, claims: { ...claims, ...structuredClone(set) }, updatedAt: new Date() });
      return true;
    },
    ...memoryFactors(byId, passkeys),
  };
}

/** The second factors and passkeys, on the same maps; each method runs in one synchronous step. */
function memoryFactors(byId: Map<string, UserRecord>, passkeys: Map<string, PasskeyRecord>): UserFactorRepository {
  const change = (id: string, factors: (current: UserRecord['factors']) => UserRecord['factors']) => {
    const user = byId.get(id);
    if (user) byId.set(id, { ...user, factors: factors(user.factors), updatedAt: new Date() });
    return user;
  };
  const copyPasskey = (passkey: PasskeyRecord): PasskeyRecord => ({
    ...passkey,
    transports: [...passkey.transports],
    createdAt: new Date(passkey.createdAt),
    ...(passkey.lastUsedAt ? { lastUsedAt: new Date(passkey.lastUsedAt) } : {}),
  });
  const owned = (userId: string, credentialId: string) => {
    const passkey = passkeys.get(credentialId);
    return passkey?.userId === userId ? passkey : undefined;
  };
  return {
    async setTotp(id, totp) {
      change(id, ({ totp: _previous, ...rest }) => ({ ...rest, ...(totp ? { totp: { ...totp } } : {}) }));
    },
    async setRecoveryCodes(id, hashes) {
      change(id, (factors) => ({ ...factors, recoveryCodes: [...hashes] }));
    },
    async removeRecoveryCode(id, hash) {
      const codes = byId.get(id)?.factors.recoveryCodes;
      if (!codes?.includes(hash)) return undefined;
      const remaining = codes.filter((code) => code !== hash);
      change(id, (factors) => ({ ...factors, recoveryCodes: remaining }));
      return remaining.length;
    },
    async addPasskey(passkey) {
      if (passkeys.has(passkey.id)) throw new Error('a passkey with this credential id exists');
      passkeys.set(passkey.id, copyPasskey(passkey));
    },
    async findPasskey(credentialId) {
      const passkey = passkeys.get(credentialId);
      return passkey && copyPasskey(passkey);
    },
    async passkeysOf(userId) {
      return [...passkeys.values()]
        .filter((passkey) => passkey.userId === userId)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .map(copyPasskey);
    },
    async recordPasskeyUse(credentialId, { counter, backedUp, at }) {
      const passkey = passkeys.get(credentialId);
      if (!passkey || ((counter > 0 || passkey.counter > 0) && counter <= passkey.counter)) return false;
      passkeys.set(credentialId, { ...passkey, counter, backedUp, lastUsedAt: new Date(at) });
      return true;
    },
    async renamePasskey(userId, credentialId, name) {
      const passkey = owned(userId, credentialId);
      if (passkey) passkeys.set(credentialId, { ...passkey, name });
      return passkey !== undefined;
    },
    async removePasskey(userId, credentialId) {
      return owned(userId, credentialId) !== undefined && passkeys.delete(credentialId);
    },
    async resetFactors(id) {
      const removed = [...passkeys.values()].filter((passkey) => passkey.userId === id);
      for (const passkey of removed) passkeys.delete(passkey.id);
      const before = byId.get(id)?.factors;
      change(id, () => ({ recoveryCodes: [] }));
      return { totp: before?.totp !== undefined, recoveryCodes: before?.recoveryCodes.length ?? 0, passkeys: removed.length };
    },
    async setCredentialsChangedAt(id, at, keepSession) {
      const user = byId.get(id);
      if (!user) return;
      const { credentialsChangedIn: _previous, ...rest } = user;
      byId.set(id, {
        ...rest,
        credentialsChangedAt: new Date(at),
        ...(keepSession ? { credentialsChangedIn: keepSession } : {}),
        updatedAt: new Date(),
      });
    },
  };
}

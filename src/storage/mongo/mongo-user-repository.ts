import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { AppError } from '../../errors.ts';
import {
  type ClaimValue,
  DuplicateLinkError,
  DuplicateUserError,
  type NewUser,
  type UniqueUserField,
  type UpstreamLink,
  type UserRecord,
  type UserRepository,
} from '../ports.ts';
import { decodeClaimKey, encodeClaimKey } from './claim-keys.ts';
import { mongoUserFactors } from './mongo-user-factors.ts';
import { passkeyModel } from './passkey-model.ts';
import { type LinkClaimDocument, linkClaimModel, linksLockModel, type StoredLink, type UserDocument, userModel } from './user-model.ts';

/** A claim this old whose user never got the link was left by a write cut short, and may be taken over. */
const ORPHAN_CLAIM_MS = 60_000;
/** A links lock this old was left by a process that died (the work under it takes milliseconds). */
const LOCK_STALE_MS = 30_000;
/** How often a writer tries for a held lock (10 to 30 ms apart) before answering "try again". */
const LOCK_ATTEMPTS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const linkKey = ({ issuer, subject }: Pick<UpstreamLink, 'issuer' | 'subject'>) => `${issuer}#${subject}`;

/**
 * The lookup by id serves token refresh and userinfo (behind the per-instance user cache). It reads
 * the primary, and a secondary only while there is no primary (an election: about ten seconds),
 * so apps keep refreshing through an election. A secondary may
 * miss the very latest change, which is harmless here: disabling an account or changing its
 * password also revokes its grants in Redis. Sign-in's lookups by email and username, which check
 * the password, and every write stay on the primary (connect-mongo.ts).
 * https://www.mongodb.com/docs/manual/core/read-preference/#mongodb-readmode-primaryPreferred
 */
const USER_BY_ID_READ_PREFERENCE = 'primaryPreferred';

/** Users in MongoDB. Call `ensureIndexes` once at start so the unique indexes exist. */
export function createMongoUserRepository(connection: Connection): UserRepository & {
  ensureIndexes(): Promise<void>;
} {
  const Users = userModel(connection);
  const Passkeys = passkeyModel(connection);
  const Claims = linkClaimModel(connection);
  const Locks = linksLockModel(connection);

  const findOne = async (filter: Partial<UserDocument>, readPreference?: 'primaryPreferred') => {
    const query = Users.findOne(filter);
    if (readPreference) query.read(readPreference);
    const doc = await query.lean<UserDocument>().exec();
    return doc ? toRecord(doc) : undefined;
  };

  return {
    async ensureIndexes() {
      await Promise.all([Users.createIndexes(), Passkeys.createIndexes(), Claims.createIndexes(), Locks.createIndexes()]);
    },
    async create({ claims, ...user }: NewUser) {
      try {
        const doc = await Users.create({ _id: randomUUID(), ...user, ...(claims ? { claims: encodeClaims(claims) } : {}) });
        return toRecord(doc.toObject());
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        throw new DuplicateUserError(await collidingFields(user));
      }
    },
    findById: (id) => findOne({ _id: id }, USER_BY_ID_READ_PREFERENCE),
    findByUsernameKey: (usernameKey) => findOne({ usernameKey }),
    findByEmail: (email) => findOne({ email }),
    async updatePasswordHash(id, passwordHash) {
      await Users.updateOne({ _id: id }, { $set: { passwordHash } }).exec();
    },
    async updateProfile(id, profile) {
      const current = await Users.findById(id).lean<UserDocument>().exec();
      if (!current) throw new Error(`user ${id} not found`);
      const emailChanged = current.email !== profile.email;
      try {
        await Users.updateOne({ _id: id }, { $set: { ...profile, ...(emailChanged ? { emailVerified: false } : {}) } }).exec();
        const updated = await Users.findById(id).lean<UserDocument>().exec();
        if (!updated) throw new Error(`user ${id} not found`);
        return toRecord(updated);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        const fields = (await collidingFields({ ...profile, passwordHash: '' })).filter((field) =>
          field === 'username' ? profile.usernameKey !== current.usernameKey : emailChanged,
        );
        throw new DuplicateUserError(fields);
      }
    },
    async markEmailVerified(id, email) {
      const result = await Users.updateOne({ _id: id, email }, { $set: { emailVerified: true } }).exec();
      return result.matchedCount === 1;
    },
    async list({ search, skip, limit }) {
      const pattern = search ? new RegExp(search.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i') : undefined;
      const filter = pattern ? { $or: [{ usernameKey: pattern }, { email: pattern }] } : {};
      const [docs, total] = await Promise.all([
        Users.find(filter).sort({ createdAt: 1, _id: 1 }).skip(skip).limit(limit).lean<UserDocument[]>().exec(),
        Users.countDocuments(filter).exec(),
      ]);
      return { users: docs.map(toRecord), total };
    },
    async delete(id) {
      await Passkeys.deleteMany({ userId: id }).exec();
      const deleted = (await Users.deleteOne({ _id: id }).exec()).deletedCount === 1;
      await Claims.deleteMany({ userId: id }).exec();
      return deleted;
    },
    async findByLink(issuer, subject) {
      const key = linkKey({ issuer, subject });
      const claim = await Claims.findById(key).lean<LinkClaimDocument>().exec();
      // The claim says whose it is; the user's own list confirms it (a write cut short links no one).
      return claim ? findOne({ _id: claim.userId, 'links.key': key } as Partial<UserDocument>) : undefined;
    },
    async linksOf(id) {
      const doc = await Users.findById(id, { links: 1 }).lean<Pick<UserDocument, 'links'>>().exec();
      return (doc?.links ?? []).map(toLink).sort((a, b) => a.linkedAt.getTime() - b.linkedAt.getTime());
    },
    async addLink(id, link) {
      const key = linkKey(link);
      return withLinksLocked(id, async () => {
        if (!(await Users.exists({ _id: id }).exec())) throw new AppError('not_found', `user ${id} not found`, { status: 404 });
        await claim(key, id);
        const stored: StoredLink = { key, ...link, linkedAt: new Date() };
        await Users.updateOne({ _id: id }, { $push: { links: stored } }).exec();
        return toLink(stored);
      });
    },
    async removeLink(id, link, { keepOneWayIn = false } = {}) {
      const key = linkKey(link);
      // Under the user's lock, the check (a password or another link is left) and the removal are one
      // step: two removals at once cannot take the last two ways in.
      return withLinksLocked(id, async () => {
        const doc = await Users.findById(id, { links: 1, passwordHash: 1 }).lean<UserDocument>().exec();
        const links = doc?.links ?? [];
        if (!doc || !links.some((stored) => stored.key === key)) return 'not_found';
        const rest = links.filter((stored) => stored.key !== key);
        if (keepOneWayIn && rest.length === 0 && !doc.passwordHash) return 'last_way_in';
        await Users.updateOne({ _id: id }, { $set: { links: rest } }).exec();
        await Claims.deleteOne({ _id: key, userId: id }).exec();
        return 'removed';
      });
    },
    async setActive(id, active) {
      await Users.updateOne({ _id: id }, { $set: { active } }).exec();
    },
    async setName(id, name) {
      await Users.updateOne({ _id: id }, name === undefined ? { $unset: { name: 1 } } : { $set: { name } }).exec();
    },
    // Groups and claims change through update operators ($addToSet, $pullAll, $set/$unset of one
    // claim's path), never by rewriting the whole list, so MongoDB applies each change atomically to
    // the document and two administrators editing different groups or claims do not undo each other.
    // (FerretDB, the test suite's stand-in, applies operators by read-modify-write: not atomic there.)
    async addGroups(id, groups) {
      return (await Users.updateOne({ _id: id }, { $addToSet: { groups: { $each: groups } } }).exec()).matchedCount === 1;
    },
    async removeGroups(id, groups) {
      return (await Users.updateOne({ _id: id }, { $pullAll: { groups } }).exec()).matchedCount === 1;
    },
    async updateClaims(id, { set = {}, remove = [] }) {
      if (remove.some((name) => Object.hasOwn(set, name))) throw new Error('a claim cannot be set and removed at once');
      const path = (name: string) => `claims.${encodeClaimKey(name)}`;
      const $set = Object.fromEntries(Object.entries(set).map(([name, value]) => [path(name), value]));
      const $unset = Object.fromEntries(remove.map((name) => [path(name), 1]));
      const update = { ...(remove.length > 0 ? { $unset } : {}), ...(Object.keys($set).length > 0 ? { $set } : {}) };
      return (await Users.updateOne({ _id: id }, update).exec()).matchedCount === 1;
    },
    ...mongoUserFactors(Users, Passkeys),
  };

  /**
   * Takes the upstream identity for `userId`: the unique _id of its claim decides between concurrent
   * links. A claim whose user never got the link (the write was cut short) is taken over once it is
   * old enough not to be a link still being written.
   * @throws DuplicateLinkError
   */
  async function claim(key: string, userId: string): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        await Claims.create({ _id: key, userId, claimedAt: new Date() });
        return;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const existing = await Claims.findById(key).lean<LinkClaimDocument>().exec();
      if (!existing || existing.claimedAt.getTime() > Date.now() - ORPHAN_CLAIM_MS) break;
      if (await Users.exists({ _id: existing.userId, 'links.key': key }).exec()) break;
      // An orphan: remove it, and let the unique insert decide again between whoever tries.
      await Claims.deleteOne({ _id: key, userId: existing.userId, claimedAt: existing.claimedAt }).exec();
    }
    throw new DuplicateLinkError();
  }

  /**
   * Runs `work` while holding the user's links lock: a document whose unique _id is the user id, so
   * of concurrent writers exactly one inserts it (per-document conditional updates would do on
   * MongoDB, but not every MongoDB-wire server applies them atomically; unique inserts all do). A lock
   * left by a process that died is broken after LOCK_STALE_MS.
   */
  async function withLinksLocked<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const token = randomUUID();
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt += 1) {
      try {
        await Locks.create({ _id: userId, token, lockedAt: new Date() });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        await Locks.deleteOne({ _id: userId, lockedAt: { $lt: new Date(Date.now() - LOCK_STALE_MS) } }).exec();
        await sleep(10 + Math.floor(Math.random() * 20));
        continue;
      }
      try {
        return await work();
      } finally {
        await Locks.deleteOne({ _id: userId, token }).exec();
      }
    }
    throw new AppError('conflict', `the links of user ${userId} are being changed; try again`, { status: 409 });
  }

  /** Which unique field collided, for the message; the index already refused the write. */
  async function collidingFields(user: NewUser): Promise<UniqueUserField[]> {
    const [byName, byEmail] = await Promise.all([
      Users.exists({ usernameKey: user.usernameKey }).exec(),
      Users.exists({ email: user.email }).exec(),
    ]);
    const fields: UniqueUserField[] = [];
    if (byName) fields.push('username');
    if (byEmail) fields.push('email');
    return fields;
  }
}

/**
 * MongoDB reports a unique-index refusal with code 11000. FerretDB does so for inserts, but for
 * updates it passes on SQLite's "UNIQUE constraint failed" under a generic code, so that is
 * recognised too (it is the same refusal by the same index).
 */
function isDuplicateKeyError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 11000 || (typeof message === 'string' && message.includes('UNIQUE constraint failed'));
}

function toRecord(doc: UserDocument): UserRecord {
  return {
    id: doc._id,
    username: doc.username,
    usernameKey: doc.usernameKey,
    email: doc.email,
    emailVerified: doc.emailVerified,
    ...(doc.passwordHash ? { passwordHash: doc.passwordHash } : {}),
    active: doc.active,
    ...(doc.name ? { name: doc.name } : {}),
    groups: doc.groups ?? [],
    claims: decodeClaims(doc.claims ?? {}),
    factors: {
      recoveryCodes: doc.factors?.recoveryCodes ?? [],
      ...(doc.factors?.totp ? { totp: { sealedSecret: doc.factors.totp.sealedSecret, createdAt: doc.factors.totp.createdAt } } : {}),
    },
    ...(doc.credentialsChangedAt ? { credentialsChangedAt: doc.credentialsChangedAt } : {}),
    ...(doc.credentialsChangedIn ? { credentialsChangedIn: doc.credentialsChangedIn } : {}),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

function toLink(stored: StoredLink): UpstreamLink {
  return {
    issuer: stored.issuer,
    subject: stored.subject,
    upstream: stored.upstream,
    ...(stored.label ? { label: stored.label } : {}),
    linkedAt: new Date(stored.linkedAt),
  };
}

function encodeClaims(claims: Record<string, ClaimValue>): Record<string, ClaimValue> {
  return Object.fromEntries(Object.entries(claims).map(([name, value]) => [encodeClaimKey(name), value]));
}

function decodeClaims(stored: Record<string, unknown>): Record<string, ClaimValue> {
  return Object.fromEntries(Object.entries(stored).map(([key, value]) => [decodeClaimKey(key), value as ClaimValue]));
}

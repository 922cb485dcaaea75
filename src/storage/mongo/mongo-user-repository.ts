import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { type ClaimValue, DuplicateUserError, type NewUser, type UniqueUserField, type UserRecord, type UserRepository } from '../ports.ts';
import { decodeClaimKey, encodeClaimKey } from './claim-keys.ts';
import { mongoUserFactors } from './mongo-user-factors.ts';
import { passkeyModel } from './passkey-model.ts';
import { type UserDocument, userModel } from './user-model.ts';

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

  const findOne = async (filter: Partial<UserDocument>, readPreference?: 'primaryPreferred') => {
    const query = Users.findOne(filter);
    if (readPreference) query.read(readPreference);
    const doc = await query.lean<UserDocument>().exec();
    return doc ? toRecord(doc) : undefined;
  };

  return {
    async ensureIndexes() {
      await Promise.all([Users.createIndexes(), Passkeys.createIndexes()]);
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
      return (await Users.deleteOne({ _id: id }).exec()).deletedCount === 1;
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
    passwordHash: doc.passwordHash,
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

function encodeClaims(claims: Record<string, ClaimValue>): Record<string, ClaimValue> {
  return Object.fromEntries(Object.entries(claims).map(([name, value]) => [encodeClaimKey(name), value]));
}

function decodeClaims(stored: Record<string, unknown>): Record<string, ClaimValue> {
  return Object.fromEntries(Object.entries(stored).map(([key, value]) => [decodeClaimKey(key), value as ClaimValue]));
}

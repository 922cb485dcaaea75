import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import {
  DuplicateUserError,
  type NewUser,
  type UniqueUserField,
  type UserRecord,
  type UserRepository,
} from '../ports.ts';
import { userModel, type UserDocument } from './user-model.ts';

/** Users in MongoDB. Call `ensureIndexes` once at start so the unique indexes exist. */
export function createMongoUserRepository(connection: Connection): UserRepository & {
  ensureIndexes(): Promise<void>;
} {
  const Users = userModel(connection);

  const findOne = async (filter: Partial<UserDocument>) => {
    const doc = await Users.findOne(filter).lean<UserDocument>().exec();
    return doc ? toRecord(doc) : undefined;
  };

  return {
    async ensureIndexes() {
      await Users.createIndexes();
    },
    async create(user: NewUser) {
      try {
        const doc = await Users.create({ _id: randomUUID(), ...user });
        return toRecord(doc.toObject());
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        throw new DuplicateUserError(await collidingFields(user));
      }
    },
    findById: (id) => findOne({ _id: id }),
    findByUsernameKey: (usernameKey) => findOne({ usernameKey }),
    findByEmail: (email) => findOne({ email }),
    async updatePasswordHash(id, passwordHash) {
      await Users.updateOne({ _id: id }, { $set: { passwordHash } }).exec();
    },
    async markEmailVerified(id, email) {
      const result = await Users.updateOne({ _id: id, email }, { $set: { emailVerified: true } }).exec();
      return result.matchedCount === 1;
    },
    async setActive(id, active) {
      await Users.updateOne({ _id: id }, { $set: { active } }).exec();
    },
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

function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
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
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

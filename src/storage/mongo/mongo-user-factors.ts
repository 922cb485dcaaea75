import type { Model } from 'mongoose';
import type { PasskeyRecord, UserFactorRepository } from '../ports.ts';
import type { PasskeyDocument } from './passkey-model.ts';
import type { UserDocument } from './user-model.ts';

/**
 * The second factors of users in MongoDB: TOTP and recovery codes in the user's document, passkeys in
 * the `passkeys` collection (see passkey-model.ts). The user's updatedAt moves with every change
 * (mongoose timestamps), as with the other user writes.
 */
export function mongoUserFactors(Users: Model<UserDocument>, Passkeys: Model<PasskeyDocument>): UserFactorRepository {
  return {
    async setTotp(id, totp) {
      await Users.updateOne({ _id: id }, totp ? { $set: { 'factors.totp': totp } } : { $unset: { 'factors.totp': 1 } }).exec();
    },
    async setRecoveryCodes(id, hashes) {
      await Users.updateOne({ _id: id }, { $set: { 'factors.recoveryCodes': hashes } }).exec();
    },
    async removeRecoveryCode(id, hash) {
      // One document, one update: MongoDB applies the match and the $pull atomically.
      const result = await Users.updateOne({ _id: id, 'factors.recoveryCodes': hash }, { $pull: { 'factors.recoveryCodes': hash } }).exec();
      if (result.modifiedCount !== 1) return undefined;
      const user = await Users.findById(id, { 'factors.recoveryCodes': 1 }).lean<Pick<UserDocument, 'factors'>>().exec();
      return user?.factors?.recoveryCodes?.length ?? 0;
    },
    async addPasskey(passkey) {
      const { id, ...rest } = passkey;
      await Passkeys.create({ _id: id, ...rest });
    },
    async findPasskey(credentialId) {
      const doc = await Passkeys.findById(credentialId).lean<PasskeyDocument>().exec();
      return doc ? toPasskey(doc) : undefined;
    },
    async passkeysOf(userId) {
      const docs = await Passkeys.find({ userId }).sort({ createdAt: 1, _id: 1 }).lean<PasskeyDocument[]>().exec();
      return docs.map(toPasskey);
    },
    async recordPasskeyUse(credentialId, { counter, backedUp, at }) {
      // An authenticator that counts must count up; one that reports 0 never does (WebAuthn §6.1.1).
      const filter = counter > 0 ? { _id: credentialId, counter: { $lt: counter } } : { _id: credentialId, counter: 0 };
      const result = await Passkeys.updateOne(filter, { $set: { counter, backedUp, lastUsedAt: at } }).exec();
      return result.matchedCount === 1;
    },
    async renamePasskey(userId, credentialId, name) {
      return (await Passkeys.updateOne({ _id: credentialId, userId }, { $set: { name } }).exec()).matchedCount === 1;
    },
    async removePasskey(userId, credentialId) {
      return (await Passkeys.deleteOne({ _id: credentialId, userId }).exec()).deletedCount === 1;
    },
    async resetFactors(id) {
      const before = await Users.findById(id, { factors: 1 }).lean<Pick<UserDocument, 'factors'>>().exec();
      const [passkeys] = await Promise.all([
        Passkeys.deleteMany({ userId: id }).exec(),
        Users.updateOne({ _id: id }, { $set: { factors: { recoveryCodes: [] } } }).exec(),
      ]);
      return {
        totp: before?.factors?.totp !== undefined,
        recoveryCodes: before?.factors?.recoveryCodes?.length ?? 0,
        passkeys: passkeys.deletedCount,
      };
    },
  };
}

function toPasskey(doc: PasskeyDocument): PasskeyRecord {
  return {
    id: doc._id,
    userId: doc.userId,
    userHandle: doc.userHandle,
    publicKey: doc.publicKey,
    counter: doc.counter,
    transports: doc.transports ?? [],
    deviceType: doc.deviceType,
    backedUp: doc.backedUp,
    name: doc.name,
    createdAt: doc.createdAt,
    ...(doc.lastUsedAt ? { lastUsedAt: doc.lastUsedAt } : {}),
  };
}

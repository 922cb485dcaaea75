import { type Connection, type Model, Schema } from 'mongoose';
import type { ClientStore, StoredClient } from '../ports.ts';

interface ClientDocument {
  _id: string;
  metadata: Record<string, unknown>;
  sealedSecret?: string | null;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const clientSchema = new Schema<ClientDocument>(
  {
    _id: { type: String, required: true },
    metadata: { type: Schema.Types.Mixed, required: true },
    sealedSecret: { type: String },
    disabled: { type: Boolean, required: true, default: false },
  },
  { collection: 'clients', timestamps: true, versionKey: false, autoIndex: false, minimize: false },
);

/** Registered clients in MongoDB, one document per client_id (the _id). */
export function createMongoClientStore(connection: Connection): ClientStore {
  const Clients: Model<ClientDocument> = connection.models.Client ?? connection.model<ClientDocument>('Client', clientSchema);
  const toStored = (doc: ClientDocument): StoredClient => ({
    clientId: doc._id,
    metadata: doc.metadata,
    sealedSecret: doc.sealedSecret ?? undefined,
    disabled: doc.disabled,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  });
  return {
    async find(clientId) {
      const doc = await Clients.findById(clientId).lean<ClientDocument>().exec();
      return doc ? toStored(doc) : undefined;
    },
    async list() {
      return (await Clients.find().sort({ createdAt: 1, _id: 1 }).lean<ClientDocument[]>().exec()).map(toStored);
    },
    async create({ clientId, metadata, sealedSecret, disabled }) {
      const doc = await Clients.create({ _id: clientId, metadata, sealedSecret, disabled });
      return toStored(doc.toObject());
    },
    async update(clientId, changes) {
      const set: Record<string, unknown> = {};
      const unset: Record<string, 1> = {};
      if (changes.metadata) set.metadata = changes.metadata;
      if (changes.disabled !== undefined) set.disabled = changes.disabled;
      if ('sealedSecret' in changes) {
        if (changes.sealedSecret === undefined) unset.sealedSecret = 1;
        else set.sealedSecret = changes.sealedSecret;
      }
      const result = await Clients.updateOne(
        { _id: clientId },
        { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
      ).exec();
      return result.matchedCount === 1 ? this.find(clientId) : undefined;
    },
    async delete(clientId) {
      return (await Clients.deleteOne({ _id: clientId }).exec()).deletedCount === 1;
    },
  };
}

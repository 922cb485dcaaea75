import { type Connection, type Model, Schema } from 'mongoose';
import { newEventId } from '../event-id.ts';
import type { SecurityEventStore, StoredSecurityEvent } from '../ports.ts';

interface SecurityEventDocument extends Omit<StoredSecurityEvent, 'id'> {
  _id: string;
}

const schema = new Schema<SecurityEventDocument>(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    type: { type: String, required: true },
    actor: { type: String, required: true },
    accountId: { type: String },
    clientId: { type: String },
    ip: { type: String },
    userAgent: { type: String },
    requestId: { type: String },
    details: { type: Schema.Types.Mixed },
  },
  { collection: 'security_events', versionKey: false, autoIndex: false },
);
// The account page and the users tool list one account's newest events; administrators' changes
// are listed per app; the retention purge deletes by time.
schema.index({ accountId: 1, at: -1 });
schema.index({ clientId: 1, at: -1 });
schema.index({ at: 1 });

/**
 * Security events in MongoDB. Retention is enforced by the service (purge, and `since` on every
 * read), not by a TTL index: FerretDB 1.x, the MongoDB-wire server the tests and small setups use,
 * does not expire documents, and a TTL index's period cannot change without collMod.
 */
export function createMongoSecurityEventStore(connection: Connection): SecurityEventStore & { ensureIndexes(): Promise<void> } {
  const Events: Model<SecurityEventDocument> =
    connection.models.SecurityEvent ?? connection.model<SecurityEventDocument>('SecurityEvent', schema);
  const toStored = ({ _id, ...event }: SecurityEventDocument): StoredSecurityEvent => {
    const stored: StoredSecurityEvent = { id: _id, at: event.at, type: event.type, actor: event.actor };
    for (const key of ['accountId', 'clientId', 'ip', 'userAgent', 'requestId', 'details'] as const) {
      if (event[key] !== undefined && event[key] !== null) Object.assign(stored, { [key]: event[key] });
    }
    return stored;
  };
  const newest = async (filter: Record<string, unknown>, { since, limit }: { since: Date; limit: number }) => {
    const docs = await Events.find({ ...filter, at: { $gte: since } })
      .sort({ at: -1, _id: -1 })
      .limit(limit)
      .lean<SecurityEventDocument[]>()
      .exec();
    return docs.map(toStored);
  };
  return {
    async ensureIndexes() {
      await Events.createIndexes();
    },
    async append(event) {
      await Events.create({ _id: newEventId(event.at), ...event });
    },
    forAccount: (accountId, options) => newest({ accountId }, options),
    forClient: (clientId, options) => newest({ clientId }, options),
    async purge(before) {
      return (await Events.deleteMany({ at: { $lt: before } }).exec()).deletedCount;
    },
    async deleteAccount(accountId) {
      return (await Events.deleteMany({ accountId }).exec()).deletedCount;
    },
  };
}

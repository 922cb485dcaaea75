import { type Connection, type Model, Schema } from 'mongoose';

export interface PasskeyDocument {
  /** The credential id (base64url): unique, and what a sign-in looks the passkey up by. */
  _id: string;
  userId: string;
  userHandle: string;
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt?: Date;
}

/*
 * Passkeys are documents of their own rather than an array in the user's: each sign-in updates one
 * passkey's counter, which as its own document is a single-document write by _id, and a credential id
 * is unique by the _id index across every user (WebAuthn §7.1 step 26).
 */
const passkeySchema = new Schema<PasskeyDocument>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    userHandle: { type: String, required: true },
    publicKey: { type: String, required: true },
    counter: { type: Number, required: true },
    transports: { type: [String], default: [] },
    deviceType: { type: String, required: true, enum: ['singleDevice', 'multiDevice'] },
    backedUp: { type: Boolean, required: true },
    name: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: false },
  },
  { collection: 'passkeys', versionKey: false, autoIndex: false },
);

/** Registers the Passkey model on an explicit connection (no global mongoose state). */
export function passkeyModel(connection: Connection): Model<PasskeyDocument> {
  return connection.models.Passkey ?? connection.model<PasskeyDocument>('Passkey', passkeySchema);
}

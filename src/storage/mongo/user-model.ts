import { type Connection, type Model, Schema } from 'mongoose';

export interface UserDocument {
  _id: string;
  username: string;
  usernameKey: string;
  email: string;
  emailVerified: boolean;
  passwordHash: string;
  active: boolean;
  name?: string;
  groups?: string[];
  /** Extra claims, their names encoded by claim-keys.ts (MongoDB field names cannot hold "." or start with "$"). */
  claims?: Record<string, unknown>;
  /** Absent on users stored before second factors existed. */
  factors?: { totp?: { sealedSecret: string; createdAt: Date }; recoveryCodes?: string[] };
  credentialsChangedAt?: Date;
  credentialsChangedIn?: string;
  createdAt: Date;
  updatedAt: Date;
}

const userSchema = new Schema<UserDocument>(
  {
    _id: { type: String, required: true },
    username: { type: String, required: true },
    // Uniqueness is the database's job: these indexes decide concurrent registrations.
    usernameKey: { type: String, required: true, unique: true },
    email: { type: String, required: true, unique: true },
    emailVerified: { type: Boolean, required: true, default: false },
    passwordHash: { type: String, required: true },
    active: { type: Boolean, required: true, default: true },
    name: { type: String, required: false },
    groups: { type: [String], default: undefined },
    claims: { type: Schema.Types.Mixed, required: false },
    factors: {
      type: new Schema(
        {
          totp: { type: new Schema({ sealedSecret: String, createdAt: Date }, { _id: false }), required: false },
          recoveryCodes: { type: [String], default: [] },
        },
        { _id: false },
      ),
      required: false,
    },
    credentialsChangedAt: { type: Date, required: false },
    credentialsChangedIn: { type: String, required: false },
  },
  { collection: 'users', timestamps: true, versionKey: false, autoIndex: false },
);

/** Registers the User model on an explicit connection (no global mongoose state). */
export function userModel(connection: Connection): Model<UserDocument> {
  return connection.models.User ?? connection.model<UserDocument>('User', userSchema);
}

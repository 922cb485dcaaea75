import { type Connection, type Model, Schema } from 'mongoose';

export interface StoredLink {
  key: string;
  issuer: string;
  subject: string;
  upstream: string;
  label?: string;
  linkedAt: Date;
}

export interface UserDocument {
  _id: string;
  username: string;
  usernameKey: string;
  email: string;
  emailVerified: boolean;
  passwordHash?: string;
  active: boolean;
  name?: string;
  /** Upstream sign-ins linked to the user; `key` is issuer#subject, also the _id of its user_links entry. */
  links?: StoredLink[];
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
    // Absent for someone who signed up through an upstream provider and has set no password.
    passwordHash: { type: String, required: false },
    active: { type: Boolean, required: true, default: true },
    name: { type: String, required: false },
    links: {
      type: [
        new Schema<StoredLink>(
          {
            key: { type: String, required: true },
            issuer: { type: String, required: true },
            subject: { type: String, required: true },
            upstream: { type: String, required: true },
            label: { type: String, required: false },
            linkedAt: { type: Date, required: true },
          },
          { _id: false },
        ),
      ],
      default: undefined,
    },
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

export interface LinkClaimDocument {
  /** issuer#subject: the unique _id is what lets one upstream identity belong to one user only. */
  _id: string;
  userId: string;
  claimedAt: Date;
}

/**
 * One document per linked upstream identity. A unique index on an array field is not enforced by
 * every MongoDB-wire server (FerretDB's is not), while _id always is; so uniqueness across users
 * lives here, and the user document holds the user's links (where removing one can be conditional,
 * in one atomic update).
 */
const linkClaimSchema = new Schema<LinkClaimDocument>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    claimedAt: { type: Date, required: true },
  },
  { collection: 'user_links', versionKey: false, autoIndex: false },
);

export function linkClaimModel(connection: Connection): Model<LinkClaimDocument> {
  return connection.models.UserLink ?? connection.model<LinkClaimDocument>('UserLink', linkClaimSchema);
}

export interface LinksLockDocument {
  /** The user whose links are being changed. */
  _id: string;
  token: string;
  lockedAt: Date;
}

const linksLockSchema = new Schema<LinksLockDocument>(
  {
    _id: { type: String, required: true },
    token: { type: String, required: true },
    lockedAt: { type: Date, required: true },
  },
  { collection: 'user_link_locks', versionKey: false, autoIndex: false },
);

/** One short-lived document per user whose links are being changed (see withLinksLocked). */
export function linksLockModel(connection: Connection): Model<LinksLockDocument> {
  return connection.models.UserLinksLock ?? connection.model<LinksLockDocument>('UserLinksLock', linksLockSchema);
}

import type { Adapter, AdapterPayload } from 'oidc-provider';
import { AppError } from '../errors.ts';

/** Builds the oidc-provider adapter for one model name (oidc-provider's `adapter` factory). */
export type OidcAdapterFactory = (modelName: string) => Adapter;

/** oidc-provider's storage plus what the library has no API for: every session of one account. */
export interface OidcStore {
  adapter: OidcAdapterFactory;
  /**
   * Deletes the account's sign-in sessions (their cookies become worthless), all of them or all but
   * the session `except`; returns how many ended.
   */
  endSessionsOf(accountId: string, options?: { except?: string }): Promise<number>;
  /** The account's grants (one per app it allowed), as oidc-provider stored them. */
  grantsOf(accountId: string): Promise<AdapterPayload[]>;
}

export interface UserRecord {
  /** Stable, never reassigned; the OIDC `sub`. */
  id: string;
  /** As the user typed it, for display and `preferred_username`. */
  username: string;
  /** Normalized username; unique. */
  usernameKey: string;
  /** Normalized email; unique. */
  email: string;
  emailVerified: boolean;
  /**
   * PHC string, e.g. $argon2id$v=19$m=19456,p=1,t=2$...; absent for a person who signed up through an
   * upstream provider and has not set a password (they can, through the password reset flow).
   */
  passwordHash?: string;
  active: boolean;
  /** Full name as the person wants it shown (the OIDC `name` claim); absent until set. */
  name?: string;
  /** Groups (or roles) the user belongs to, in the order added; the `groups` claim. Empty when none. */
  groups: string[];
  /** Extra claims set by an administrator, released by the scope the configuration ties each to. */
  claims: Record<string, ClaimValue>;
  /** Second factors: an authenticator app and recovery codes (passkeys are records of their own). */
  factors: SecondFactors;
  /**
   * When a sign-in credential last changed (the password, a second factor or passkey, a reset or a
   * disable): a sign-in given before it no longer counts, so every session and every finished but not
   * yet resumed interaction older than it must sign in again (see src/users/credentials-changed.ts).
   * Absent until the first such change.
   */
  credentialsChangedAt?: Date;
  /**
   * The sign-in session (oidc-provider's session uid) in which the person made that change themself:
   * they proved who they are there, so it stays signed in. Absent for changes made elsewhere (an
   * administrator, a reset link).
   */
  credentialsChangedIn?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A JSON value other than null: what an extra claim may hold. */
export type ClaimValue = string | number | boolean | ClaimValue[] | { [key: string]: ClaimValue };
/** An authenticator app (TOTP, RFC 6238). Its secret is sealed (AES-256-GCM), never stored in clear. */
export interface TotpFactor {
  sealedSecret: string;
  createdAt: Date;
}

export interface SecondFactors {
  /** Present once the person confirmed an authenticator app with a code. */
  totp?: TotpFactor;
  /** Keyed hashes of the unused recovery codes; a used one is removed. */
  recoveryCodes: string[];
}

/** A WebAuthn credential (passkey) of a user, as verified at registration (attestation none). */
export interface PasskeyRecord {
  /** The credential id, base64url; unique across users. */
  id: string;
  userId: string;
  /** The WebAuthn user handle (base64url) the credential was created for; one per user. */
  userHandle: string;
  /** COSE public key, base64url. */
  publicKey: string;
  /** The authenticator's signature counter (0 for authenticators that do not count). */
  counter: number;
  /** AuthenticatorTransport values the browser reported (internal, hybrid, usb, ...). */
  transports: string[];
  /** Backup eligibility: `multiDevice` (a synced passkey) or `singleDevice` (bound to one authenticator). */
  deviceType: 'singleDevice' | 'multiDevice';
  /** Whether the credential is backed up (synced) now; it can change at each use. */
  backedUp: boolean;
  /** The name the person gave it, shown on the account page. */
  name: string;
  createdAt: Date;
  lastUsedAt?: Date;
}

export type NewUser = Pick<UserRecord, 'username' | 'usernameKey' | 'email' | 'passwordHash'> &
  Partial<Pick<UserRecord, 'emailVerified' | 'active' | 'name' | 'groups' | 'claims'>>;

/** A sign-in through an upstream identity provider, tied to one of our users. */
export interface UpstreamLink {
  /** The upstream's issuer (OpenID Connect) or configured issuer (OAuth 2.0); with `subject`, linked to one user at most. */
  issuer: string;
  /** The upstream's stable identifier of the person (`sub`; GitHub's numeric id). */
  subject: string;
  /** The configured upstream (its IDP_UPSTREAMS id) the link was made through. */
  upstream: string;
  /** What the upstream called the person when the link was made (an email or a username), so they recognise it. */
  label?: string;
  linkedAt: Date;
}

/** The upstream identity is linked already (to this user or another): the store's unique key decided. */
export class DuplicateLinkError extends AppError {
  constructor() {
    super('conflict', 'this upstream identity is linked to an account already', { status: 409 });
    this.name = 'DuplicateLinkError';
  }
}

/** What removing a link did: `last_way_in` when the user has no password and no other link (nothing changed). */
export type RemoveLinkResult = 'removed' | 'not_found' | 'last_way_in';

export type UniqueUserField = 'username' | 'email';

/** A unique index refused the write. `fields` names what collided when the store can tell. */
export class DuplicateUserError extends AppError {
  readonly fields: UniqueUserField[];

  constructor(fields: UniqueUserField[]) {
    super('conflict', `a user with this ${fields.join(' and ') || 'username or email'} already exists`, { status: 409 });
    this.name = 'DuplicateUserError';
    this.fields = fields;
  }
}

/**
 * The credentials of a user besides the password, kept by the user store: TOTP and recovery codes in
 * the user's record, passkeys as records of their own (looked up by credential id at sign-in).
 */
export interface UserFactorRepository {
  /** Turns the authenticator app on (replacing one) or off (undefined). */
  setTotp(id: string, totp: TotpFactor | undefined): Promise<void>;
  /** Replaces every recovery code (an empty list removes them). */
  setRecoveryCodes(id: string, hashes: string[]): Promise<void>;
  /**
   * Removes one recovery code. On MongoDB the removal is atomic (`$pull`); callers that need a code
   * to work once under concurrency on any store claim it first (OneTimeTokenStore.claim).
   * @returns how many codes remain, or undefined when the user holds no such code
   */
  removeRecoveryCode(id: string, hash: string): Promise<number | undefined>;
  /** @throws Error when a passkey with this credential id exists (for any user). */
  addPasskey(passkey: PasskeyRecord): Promise<void>;
  findPasskey(credentialId: string): Promise<PasskeyRecord | undefined>;
  /** The user's passkeys, oldest first. */
  passkeysOf(userId: string): Promise<PasskeyRecord[]>;
  /**
   * Records a sign-in with the passkey: its new counter, backup state and time. When the
   * authenticator counts, the counter must have gone up (WebAuthn §6.1.1): otherwise nothing is
   * written and false is returned (a cloned authenticator, or a replay).
   */
  recordPasskeyUse(credentialId: string, use: { counter: number; backedUp: boolean; at: Date }): Promise<boolean>;
  renamePasskey(userId: string, credentialId: string, name: string): Promise<boolean>;
  removePasskey(userId: string, credentialId: string): Promise<boolean>;
  /** Removes every second factor and passkey of the user; returns what was removed. */
  resetFactors(id: string): Promise<{ totp: boolean; recoveryCodes: number; passkeys: number }>;
  /**
   * Records that a sign-in credential changed at `at`; `keepSession` names the session in which the
   * person made the change (it stays signed in), or none.
   */
  setCredentialsChangedAt(id: string, at: Date, keepSession?: string): Promise<void>;
}

export interface UserRepository extends UserFactorRepository {
  /** @throws DuplicateUserError when the username key or email is taken (enforced by the store). */
  create(user: NewUser): Promise<UserRecord>;
  findById(id: string): Promise<UserRecord | undefined>;
  findByUsernameKey(usernameKey: string): Promise<UserRecord | undefined>;
  findByEmail(email: string): Promise<UserRecord | undefined>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  setActive(id: string, active: boolean): Promise<void>;
  /** Users whose username or email contains `search` (case-insensitive), oldest first. */
  list(options: { search?: string; skip: number; limit: number }): Promise<{ users: UserRecord[]; total: number }>;
  /** @returns whether a user was deleted (with their passkeys) */
  delete(id: string): Promise<boolean>;
  /**
   * Changes username and/or email; a changed email is no longer verified.
   * @throws DuplicateUserError when the new username key or email belongs to someone else.
   */
  updateProfile(id: string, profile: Pick<UserRecord, 'username' | 'usernameKey' | 'email'>): Promise<UserRecord>;
  /** Sets the full name, or removes it when `name` is undefined. */
  setName(id: string, name: string | undefined): Promise<void>;
  /** Marks the email verified only if it is still the user's email (it may have changed since). */
  markEmailVerified(id: string, email: string): Promise<boolean>;
  /**
   * Adds the groups the user is not in yet, after the others, in one write.
   * @returns whether the user exists
   */
  addGroups(id: string, groups: string[]): Promise<boolean>;
  /** Removes groups, in one write. @returns whether the user exists */
  removeGroups(id: string, groups: string[]): Promise<boolean>;
  /**
   * Sets and removes extra claims by name in one write; claims not named keep their values.
   * @returns whether the user exists
   */
  updateClaims(id: string, changes: { set?: Record<string, ClaimValue>; remove?: string[] }): Promise<boolean>;

  /** The user an upstream identity is linked to. */
  findByLink(issuer: string, subject: string): Promise<UserRecord | undefined>;
  /** The user's links, oldest first. */
  linksOf(id: string): Promise<UpstreamLink[]>;
  /**
   * Links an upstream identity to the user.
   * @throws DuplicateLinkError when the identity is linked already, to anyone (the store decides, so of
   * concurrent attempts exactly one succeeds).
   * @throws AppError not_found when the user does not exist.
   */
  addLink(id: string, link: Omit<UpstreamLink, 'linkedAt'>): Promise<UpstreamLink>;
  /**
   * Removes a link. With `keepOneWayIn`, a user without a password keeps their last link: the check and
   * the removal are one atomic step, so two removals at once cannot both succeed.
   */
  removeLink(id: string, link: Pick<UpstreamLink, 'issuer' | 'subject'>, options?: { keepOneWayIn?: boolean }): Promise<RemoveLinkResult>;
}

/** What is known about recent failures under one key (an account or an IP address). */
export interface AttemptRecord {
  count: number;
  /** Epoch ms of the first failure counted, and of the latest. */
  first: number;
  last: number;
}

/**
 * Failure counters shared by every instance, for brute-force defence. Keys are opaque to the store.
 * `sliding` expiry restarts at each failure; `fixed` expiry runs from the first failure.
 */
export interface AttemptCounter {
  get(key: string): Promise<AttemptRecord | undefined>;
  /** Counts one attempt and returns the record after it, in one atomic step (count first, then compare). */
  recordFailure(key: string, ttlSeconds: number, expiry: 'sliding' | 'fixed'): Promise<AttemptRecord>;
  /**
   * Counts one attempt only if the backoff allows one now, in one atomic step: allowed while fewer
   * than `free` are counted, then only once `baseDelaySeconds * 2^(count - free - 1)` (at most
   * `maxDelaySeconds`) has passed since the last one. A refused attempt is not counted. Expiry is
   * sliding, `resetSeconds` after the last counted attempt.
   */
  reserve(key: string, backoff: Backoff): Promise<{ granted: true } | { granted: false; retryAfterMs: number }>;
  /** Takes back one counted attempt (one that turned out not to be a failure); the key goes at zero. */
  release(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

export interface Backoff {
  free: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  resetSeconds: number;
}

/** The delay (ms) the backoff asks after `count` counted attempts; 0 while some are free. */
export function backoffDelayMs(backoff: Backoff, count: number): number {
  const over = count - backoff.free;
  return over <= 0 ? 0 : Math.min(backoff.maxDelaySeconds, backoff.baseDelaySeconds * 2 ** (over - 1)) * 1000;
}

/**
 * Single-use tokens (email verification, password reset). The store only ever sees a hash of the
 * token, so a copy of the store hands out no usable link.
 */
export interface OneTimeTokenStore {
  save(purpose: string, tokenHash: string, payload: Record<string, string>, ttlSeconds: number): Promise<void>;
  /** Reads without redeeming (to show a form before the token is used). */
  find(purpose: string, tokenHash: string): Promise<Record<string, string> | undefined>;
  /** Returns the payload and deletes the token in one step; undefined when unknown, used or expired. */
  consume(purpose: string, tokenHash: string): Promise<Record<string, string> | undefined>;
  /**
   * Marks `key` used for `ttlSeconds`, in one atomic step: true for the first claim only, false
   * while it is marked (a one-time code's time step, a recovery code being redeemed).
   */
  claim(purpose: string, key: string, ttlSeconds: number): Promise<boolean>;
  /**
   * Stores `value` under `key` only when it is higher than the value stored there (or none is), in
   * one atomic step, and keeps it `ttlSeconds`: true when it was stored. Of concurrent callers with
   * the same value one wins; a value at or below the stored one always loses (a one-time code's time
   * step, which must only go forward).
   */
  raise(purpose: string, key: string, value: number, ttlSeconds: number): Promise<boolean>;
}

/** A client registered by an administrator. The secret is kept sealed (encrypted), never in clear. */
export interface StoredClient {
  clientId: string;
  /** oidc-provider client metadata, without client_id and client_secret. */
  metadata: Record<string, unknown>;
  sealedSecret: string | undefined;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface ClientStore {
  find(clientId: string): Promise<StoredClient | undefined>;
  list(): Promise<StoredClient[]>;
  /** @throws Error when the id is taken (the unique _id decides). */
  create(client: Pick<StoredClient, 'clientId' | 'metadata' | 'sealedSecret' | 'disabled'>): Promise<StoredClient>;
  update(
    clientId: string,
    changes: Partial<Pick<StoredClient, 'metadata' | 'sealedSecret' | 'disabled'>>,
  ): Promise<StoredClient | undefined>;
  delete(clientId: string): Promise<boolean>;
}

/**
 * Tells every server instance that a record (a registered client, a user) changed, so each drops
 * its cached copy. Delivery is at most once (Redis pub/sub): while a subscriber is not connected it
 * may miss messages, so it is reported as not live and its owner must not trust its cache.
 */
export interface ChangeFeed {
  publish(id: string): Promise<void>;
  /**
   * `listener` receives the id of a changed record, or undefined when changes may have been missed
   * (the subscription broke or was re-established): then every cached record is suspect.
   */
  subscribe(listener: (id: string | undefined) => void): Promise<void>;
  /** True while this instance is subscribed and so hears every change. */
  isLive(): boolean;
  close(): Promise<void>;
}

export type StoreKind = 'memory' | 'redis' | 'mongodb';

export interface Stores {
  users: UserRepository;
  clients: ClientStore;
  oidcAdapter: OidcAdapterFactory;
  endSessionsOf: OidcStore['endSessionsOf'];
  grantsOf: OidcStore['grantsOf'];
  attempts: AttemptCounter;
  tokens: OneTimeTokenStore;
  securityEvents: SecurityEventStore;
  kinds: { users: StoreKind; oidc: StoreKind };
  /** Resolves when every backing service answers; rejects naming the one that does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** One security event as stored: what happened, to whom, from where (src/audit/). */
export interface StoredSecurityEvent {
  id: string;
  at: Date;
  /** A type of src/audit/event-types.ts, e.g. login.succeeded. */
  type: string;
  /** Who did it: the person, an administrator (the admin tools), or the server itself. */
  actor: 'user' | 'admin' | 'system';
  accountId?: string;
  clientId?: string;
  ip?: string;
  userAgent?: string;
  requestId?: string;
  /** A few bounded facts of the event (e.g. a failure's reason, what an administrator changed). */
  details?: Record<string, string | number | boolean>;
}

/**
 * Security events per account (and per app for administrators' changes to it), kept for a
 * retention period. Lists are newest first and never return an event older than `since`.
 */
export interface SecurityEventStore {
  append(event: Omit<StoredSecurityEvent, 'id'>): Promise<void>;
  forAccount(accountId: string, options: { since: Date; limit: number }): Promise<StoredSecurityEvent[]>;
  forClient(clientId: string, options: { since: Date; limit: number }): Promise<StoredSecurityEvent[]>;
  /** Deletes every event older than `before`; returns how many. */
  purge(before: Date): Promise<number>;
  /** Deletes an account's events (the account itself is deleted); returns how many. */
  deleteAccount(accountId: string): Promise<number>;
}

import mongoose, { type Connection, type ConnectOptions } from 'mongoose';
import type { StoreObserver } from '../observer.ts';
import { redactUrl } from '../redact-url.ts';
import { observeMongo } from './observe-mongo.ts';

/**
 * How the server reads and writes users on a MongoDB replica set, unless MONGODB_URI says otherwise
 * (an option in the URI wins, so an operator can tune one without a release):
 * - writes are acknowledged once a majority of the members has them in its journal (`w: majority`,
 *   `journal`): a registration, a new password or a disabled account survives the loss of the
 *   primary instead of being rolled back, which would bring an old password or a disabled account
 *   back. A write the majority does not confirm within 10 s fails.
 * - reads see only what a majority has (`readConcern: majority`), so nothing read can later be
 *   rolled back (a user who signed in must still exist after an election).
 * - reads go to the primary, so a sign-in checks the current password hash; only the lookup by
 *   id behind token refresh and userinfo may fall back to a secondary while no primary is elected
 *   (see USER_BY_ID_READ_PREFERENCE in mongo-user-repository.ts).
 * - a write or read interrupted by an election or a dropped connection is retried once by the
 *   driver (retryable writes and reads), so a failover costs a pause instead of an error.
 * https://www.mongodb.com/docs/manual/reference/write-concern/ ,
 * https://www.mongodb.com/docs/manual/reference/read-concern-majority/ ,
 * https://www.mongodb.com/docs/manual/core/retryable-writes/
 */
export const REPLICA_SET_DEFAULTS = {
  w: 'majority',
  journal: true,
  wtimeoutMS: 10_000,
  readConcernLevel: 'majority',
  readPreference: 'primary',
  retryWrites: true,
  retryReads: true,
} as const satisfies ConnectOptions;

/** Our defaults, except those the URI sets itself (`?w=1`, `&readPreference=...`). */
export function replicaSetOptions(uri: string): Partial<typeof REPLICA_SET_DEFAULTS> {
  const query = uri.includes('?') ? uri.slice(uri.indexOf('?') + 1).toLowerCase() : '';
  const inUri = new Set(query.split('&').map((pair) => pair.split('=')[0]));
  // The URI names write concern parts as w, journal (or j) and wtimeoutMS.
  const aliases: Record<string, string[]> = { journal: ['journal', 'j'] };
  return Object.fromEntries(
    Object.entries(REPLICA_SET_DEFAULTS).filter(([name]) => !(aliases[name] ?? [name.toLowerCase()]).some((alias) => inUri.has(alias))),
  );
}

/**
 * Opens a dedicated mongoose connection and waits until the server answers. With an observer, the
 * driver's command monitoring times every command (it is off otherwise: it costs an event per
 * command) and a lost or restored connection is reported once each.
 */
export async function connectMongo(
  uri: string,
  { timeoutMs = 5000, observer }: { timeoutMs?: number; observer?: StoreObserver } = {},
): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    autoIndex: false,
    autoCreate: false,
    ...replicaSetOptions(uri),
    monitorCommands: observer?.command !== undefined,
  });
  if (observer) observeMongo(connection, observer);
  try {
    await connection.asPromise();
    return connection;
  } catch (error) {
    await connection.close().catch(() => {});
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`cannot connect to MongoDB at ${redactUrl(uri)} (${reason})`, { cause: error });
  }
}

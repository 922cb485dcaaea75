import mongoose, { type Connection } from 'mongoose';
import type { StoreObserver } from '../observer.ts';
import { redactUrl } from '../redact-url.ts';
import { observeMongo } from './observe-mongo.ts';

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

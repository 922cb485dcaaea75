import mongoose, { type Connection } from 'mongoose';
import { redactUrl } from '../redact-url.ts';

/** Opens a dedicated mongoose connection and waits until the server answers. */
export async function connectMongo(uri: string, { timeoutMs = 5000 } = {}): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    autoIndex: false,
    autoCreate: false,
  });
  try {
    await connection.asPromise();
    return connection;
  } catch (error) {
    await connection.close().catch(() => {});
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`cannot connect to MongoDB at ${redactUrl(uri)} (${reason})`, { cause: error });
  }
}

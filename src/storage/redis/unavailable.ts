import { AppError } from '../../errors.ts';
import { ConnectionLostError } from './connect-redis.ts';
import { ReplicationTimeoutError } from './slot-writes.ts';

/**
 * Redis could not do what was asked just now: it is unreachable, failing over, loading, or could
 * not get the write to its replicas in time. The request gets a clean 503 with the OAuth error
 * `temporarily_unavailable` (RFC 6749 §4.1.2.1; an authorization request is sent back to the app
 * with it), never a wrong answer, and the client may try again. oidc-provider reads `statusCode`,
 * shows `message` as the error code because the error is exposed, and logs `error_detail`; our own
 * error handler reads `status` and shows its generic page for any 5xx.
 */
export class StoreUnavailableError extends AppError {
  readonly statusCode = 503;
  readonly error_description = 'the service is unavailable for a moment; try again';
  readonly error_detail: string;

  constructor(cause: Error) {
    super('store_unavailable', 'temporarily_unavailable', { status: 503, expose: true, cause });
    this.name = 'StoreUnavailableError';
    this.error_detail = `Redis is unavailable (${cause.message.split('\n')[0]})`;
  }
}

/** Replies Redis gives while it cannot serve a command for now (failover, loading, memory, replicas). */
const TRANSIENT_REPLIES = /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING|READONLY|NOREPLICAS|MOVED|ASK|BUSY|OOM)\b/;
/** ioredis's own words for a connection, cluster or retry that failed. */
const CONNECTION_FAILURES = [
  'Connection is closed',
  "Stream isn't writeable",
  'None of startup nodes is available',
  'Failed to refresh slots cache',
  "Cluster isn't ready",
  'Too many Cluster redirections',
  'All sentinels are unreachable',
  'Reached the max retries per request limit',
  'connect ETIMEDOUT',
];
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);

/** Whether `error` says Redis is unavailable for now, rather than that the command or data is wrong. */
export function isRedisUnavailable(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  // Lost with the connection, our own words or ioredis's for a transaction cut off half way.
  if (error instanceof ReplicationTimeoutError || error instanceof ConnectionLostError) return true;
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'AbortError') return true;
  if (error.name === 'ReplyError' && error.message.startsWith('EXECABORT')) {
    // A MULTI refused as a whole because a command in it was refused while queueing (ioredis lists
    // those): unavailable when that was, e.g. a Cluster slot moving or down during a failover.
    const previous = (error as { previousErrors?: unknown }).previousErrors;
    return Array.isArray(previous) && previous.length > 0 && previous.every((cause) => isRedisUnavailable(cause));
  }
  if (error.name === 'ReplyError') return TRANSIENT_REPLIES.test(error.message);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return CONNECTION_FAILURES.some((words) => error.message.includes(words));
}

/** The same object, each of its methods turning an unavailable Redis into a StoreUnavailableError. */
export function mapUnavailable<T extends object>(target: T): T {
  const mapped = { ...target } as Record<string, unknown>;
  for (const [name, value] of Object.entries(target)) {
    if (typeof value !== 'function') continue;
    const method = value as (...args: unknown[]) => unknown;
    mapped[name] = async (...args: unknown[]) => {
      try {
        return await method.apply(target, args);
      } catch (error) {
        throw isRedisUnavailable(error) ? new StoreUnavailableError(error) : error;
      }
    };
  }
  return mapped as T;
}

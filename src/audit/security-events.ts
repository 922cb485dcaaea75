import type { Logger } from 'pino';
import { currentRequest } from '../logging/request-scope.ts';
import type { SecurityEventStore, StoredSecurityEvent } from '../storage/ports.ts';
import { SECURITY_EVENT_TYPES, type SecurityEventType } from './event-types.ts';

export type EventDetails = Record<string, string | number | boolean>;

export interface SecurityEventFields {
  /** The account it concerns; an event is kept in the account's activity only when it names one. */
  accountId?: string | undefined;
  /** The app it concerns; by default the app of the request being served. */
  clientId?: string | undefined;
  /** Default: `admin` outside a request (the admin tools), `user` inside one. */
  actor?: StoredSecurityEvent['actor'];
  /** A few bounded facts (a failure's reason, what changed); never a secret. */
  details?: EventDetails | undefined;
}

export interface RecordedEvent extends SecurityEventFields {
  type: SecurityEventType;
}

export interface SecurityEvents {
  /** How long events are kept (IDP_SECURITY_EVENT_RETENTION_DAYS). */
  readonly retentionDays: number;
  /**
   * Logs the event (with the request id, client and account, device and address of the request
   * being served), tells the listeners (metrics), and keeps it in the account's activity when it
   * names an account, or an app changed by an administrator. Never throws: an event that cannot be
   * stored is logged as such, and the action it describes stands. The log line and the listeners
   * run before it first waits, so a caller that must not wait for the store (a refusal whose timing
   * must not tell whether an account exists) may leave the promise alone.
   */
  record(type: SecurityEventType, fields?: SecurityEventFields): Promise<void>;
  /** The account's events within the retention period, newest first. */
  ofAccount(accountId: string, limit?: number): Promise<StoredSecurityEvent[]>;
  /** An app's events within the retention period (sign-ins into it, administrators' changes), newest first. */
  ofClient(clientId: string, limit?: number): Promise<StoredSecurityEvent[]>;
  /** Deletes the account's events, when the account itself is deleted. */
  forget(accountId: string): Promise<void>;
  /** `listener` hears every event recorded (the metrics count some of them). */
  subscribe(listener: (event: RecordedEvent) => void): void;
}

export interface SecurityEventsDeps {
  store: SecurityEventStore;
  logger: Logger;
  retentionDays: number;
  now?: () => number;
}

/** A purge runs at most this often per instance, after a write. */
const PURGE_EVERY_MS = 60 * 60 * 1000;
/** User-Agent headers are kept to this length: enough to tell the device, bounded per event. */
const MAX_USER_AGENT = 512;

/**
 * Security events, in the spirit of Keycloak's user and admin events: each is a log line, and those
 * about an account are kept for `retentionDays` (IDP_SECURITY_EVENT_RETENTION_DAYS) to be shown to
 * the person ("Recent activity") and to administrators (npm run users -- events). Expired events are
 * never read (every list starts at the retention cut-off) and are deleted after a write, at most
 * hourly per instance: a TTL index would do it on MongoDB, but FerretDB 1.x refuses one
 * ("expireAfterSeconds is not implemented yet"), and its period could not change without collMod.
 */
export function createSecurityEvents({ store, logger, retentionDays, now = Date.now }: SecurityEventsDeps): SecurityEvents {
  const log = logger.child({ module: 'security' });
  const listeners: Array<(event: RecordedEvent) => void> = [];
  const retentionMs = retentionDays * 24 * 60 * 60 * 1000;
  const since = () => new Date(now() - retentionMs);
  let lastPurge = 0;

  const purgeNowAndThen = () => {
    if (now() - lastPurge < PURGE_EVERY_MS) return;
    lastPurge = now();
    store.purge(since()).then(
      (deleted) => {
        if (deleted > 0) log.info({ event: 'security_events.purged', deleted, retentionDays }, 'expired security events deleted');
      },
      (error: unknown) => log.warn({ event: 'security_events.purge_failed', err: error }, 'expired security events not deleted'),
    );
  };

  return {
    retentionDays,
    async record(type, fields = {}) {
      const request = currentRequest();
      const actor = fields.actor ?? (request ? 'user' : 'admin');
      const clientId = fields.clientId ?? request?.clientId;
      const { accountId, details } = fields;
      const line = {
        event: type,
        actor,
        ...(accountId ? { accountId } : {}),
        ...(clientId ? { clientId } : {}),
        ip: request?.ip,
        ...details,
      };
      const spec = SECURITY_EVENT_TYPES[type];
      if ('warn' in spec) log.warn(line, spec.en);
      else log.info(line, spec.en);
      for (const listener of listeners) listener({ type, ...fields, actor, clientId });

      if (!accountId && actor !== 'admin') return;
      const event: Omit<StoredSecurityEvent, 'id'> = { at: new Date(now()), type, actor };
      if (accountId) event.accountId = accountId;
      if (clientId) event.clientId = clientId;
      if (request) {
        event.ip = request.ip;
        event.requestId = request.requestId;
        if (request.userAgent) event.userAgent = request.userAgent.slice(0, MAX_USER_AGENT);
      }
      if (details && Object.keys(details).length > 0) event.details = details;
      try {
        await store.append(event);
        purgeNowAndThen();
      } catch (error) {
        log.error({ event: 'security_event.not_stored', type, err: error }, 'security event logged but not stored');
      }
    },
    ofAccount: (accountId, limit = 20) => store.forAccount(accountId, { since: since(), limit }),
    ofClient: (clientId, limit = 20) => store.forClient(clientId, { since: since(), limit }),
    async forget(accountId) {
      await store.deleteAccount(accountId);
    },
    subscribe(listener) {
      listeners.push(listener);
    },
  };
}

import { AsyncLocalStorage } from 'node:async_hooks';

/** What is known about the request being served, wherever in the code a log line or an event is written. */
export interface RequestScope {
  readonly requestId: string;
  /** The client address as the app sees it (TRUST_PROXY decides whether X-Forwarded-For counts). */
  readonly ip: string;
  readonly userAgent: string | undefined;
  /** The app (OAuth client) the request is for, once known. */
  clientId?: string | undefined;
  /** The person's account, once known (signed in, or named by a sign-in attempt). */
  accountId?: string | undefined;
  /** Run when the request has been answered (e.g. to end a span opened for it). */
  readonly atEnd: Array<() => void>;
}

/**
 * The request's scope travels with its async work (AsyncLocalStorage), so a service deep in the
 * call tree logs with the request id, client and account without each layer passing them on.
 * One storage for the process is what AsyncLocalStorage is for: every request runs in its own store.
 * @see https://nodejs.org/api/async_context.html#class-asynclocalstorage
 */
const scopes = new AsyncLocalStorage<RequestScope>();

export function runInRequestScope<T>(scope: RequestScope, work: () => T): T {
  return scopes.run(scope, work);
}

/** The scope of the request being served; undefined outside one (start-up, the admin tools). */
export function currentRequest(): RequestScope | undefined {
  return scopes.getStore();
}

/** Records the request's client and/or account once known; a no-op outside a request. */
export function noteRequest({ clientId, accountId }: { clientId?: string | undefined; accountId?: string | undefined }): void {
  const scope = scopes.getStore();
  if (!scope) return;
  if (clientId) scope.clientId = clientId;
  if (accountId) scope.accountId = accountId;
}

/** The fields every log line written while serving a request carries (pino's mixin). */
export function requestLogFields(): Record<string, string> {
  const scope = scopes.getStore();
  if (!scope) return {};
  const fields: Record<string, string> = { requestId: scope.requestId };
  if (scope.clientId) fields.clientId = scope.clientId;
  if (scope.accountId) fields.accountId = scope.accountId;
  return fields;
}

import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { noteProviderEntities } from './request-scope.ts';

/** Provider events that are failures of a request; logged at warn with the protocol error only. */
const REQUEST_ERROR_EVENTS = [
  'authorization.error',
  'backchannel.error',
  'end_session.error',
  'grant.error',
  'introspection.error',
  'pushed_authorization_request.error',
  'registration_create.error',
  'revocation.error',
  'userinfo.error',
  'discovery.error',
  'jwks.error',
] as const;

interface ProtocolError {
  error?: string;
  error_description?: string;
  error_detail?: string;
  message?: string;
}

/**
 * oidc-provider reports through events rather than logs; this turns them into structured log
 * lines. Tokens and codes are never logged, only their kind.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/events.md
 */
export function logProviderEvents(provider: Provider, logger: Logger): void {
  const log = logger.child({ module: 'oidc' });
  provider.on('server_error', (ctx: unknown, error: Error) => {
    noteProviderEntities(ctx);
    log.error({ event: 'server_error', err: error }, 'oidc-provider server error');
  });
  // The typed overloads cannot take a union of event names; every name here is a documented event.
  const on = provider.on.bind(provider) as (event: string, listener: (ctx: unknown, error: ProtocolError) => void) => unknown;
  for (const name of REQUEST_ERROR_EVENTS) {
    on(name, (ctx, error) => {
      noteProviderEntities(ctx);
      log.warn(
        { event: name, error: error.error ?? error.message, detail: error.error_detail ?? error.error_description },
        'oidc request refused',
      );
    });
  }
  provider.on('grant.success', (ctx) => {
    noteProviderEntities(ctx);
    log.debug({ event: 'grant.success' }, 'token issued');
  });
  provider.on('end_session.success', (ctx) => {
    noteProviderEntities(ctx);
    log.info({ event: 'end_session.success' }, 'session ended');
  });
  provider.on('grant.revoked', () => log.info({ event: 'grant.revoked' }, 'grant revoked'));
}

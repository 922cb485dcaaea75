import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { noteRequest } from '../logging/request-scope.ts';

/**
 * Notes, in the request's scope, the client and account oidc-provider worked with, from the
 * entities it loaded (ctx.oidc.entities, its documented context), so that its event log lines and
 * the access log line carry them.
 */
export function noteProviderEntities(ctx: unknown): void {
  const entities = (ctx as Partial<KoaContextWithOIDC>).oidc?.entities;
  if (!entities) return;
  const { Client, Account, Session, AccessToken, RefreshToken, AuthorizationCode, Grant } = entities;
  noteRequest({
    clientId: Client?.clientId,
    accountId:
      Account?.accountId ??
      Session?.accountId ??
      AuthorizationCode?.accountId ??
      RefreshToken?.accountId ??
      AccessToken?.accountId ??
      Grant?.accountId,
  });
}

/** Placed in front of the mounted provider: its requests' access log lines name their client and account. */
export const noteProviderRequest: Middleware = async function noteProviderRequest(ctx, next) {
  try {
    await next();
  } finally {
    noteProviderEntities(ctx);
  }
};

import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { SecurityEvents } from '../audit/security-events.ts';
import { noteProviderEntities } from './request-scope.ts';

/**
 * The security events oidc-provider reports rather than our pages: a session ended by sign-out
 * (RP-initiated logout, or /logout). The session is still loaded when the event fires.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/events.md
 */
export function recordProviderSecurityEvents(provider: Provider, events: SecurityEvents): void {
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    noteProviderEntities(ctx);
    const accountId = ctx.oidc.entities.Session?.accountId;
    if (accountId) void events.record('session.ended', { accountId });
  });
}

import { type Adapter, errors } from 'oidc-provider';
import { AlreadyConsumedError } from '../storage/oidc-models.ts';
import type { OidcAdapterFactory } from '../storage/ports.ts';

/**
 * oidc-provider checks `consumed` after `find` and before `consume`, so two requests racing with the
 * same code or refresh token could both pass that check. Our adapters make `consume` atomic and
 * refuse the loser with AlreadyConsumedError; here the loser is treated as a replay: the grant and
 * every token issued under it are revoked (RFC 9700 §4.2.4, §4.14.2; ASVS 10.4.2), and the client
 * gets invalid_grant.
 */
export function guardConsume(factory: OidcAdapterFactory, revokeGrant: (grantId: string) => Promise<void>): OidcAdapterFactory {
  return function guardedAdapter(model) {
    const adapter = factory(model);
    return {
      ...bind(adapter),
      async consume(id) {
        try {
          await adapter.consume(id);
        } catch (error) {
          if (!(error instanceof AlreadyConsumedError)) throw error;
          const payload = await adapter.find(id);
          if (payload?.grantId) await revokeGrant(payload.grantId);
          if (model === 'PushedAuthorizationRequest') {
            throw new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
          }
          throw new errors.InvalidGrant(`${model} already used`);
        }
      },
    };
  };
}

function bind(adapter: Adapter): Adapter {
  return {
    upsert: adapter.upsert.bind(adapter),
    find: adapter.find.bind(adapter),
    findByUid: adapter.findByUid.bind(adapter),
    findByUserCode: adapter.findByUserCode.bind(adapter),
    consume: adapter.consume.bind(adapter),
    destroy: adapter.destroy.bind(adapter),
    revokeByGrantId: adapter.revokeByGrantId.bind(adapter),
  };
}

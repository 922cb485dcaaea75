import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Logger } from 'pino';
import type { ClientStore, OidcAdapterFactory } from '../storage/ports.ts';
import type { SecretBox } from './secret-box.ts';

/**
 * oidc-provider's `Client` model, read from the registered clients on every lookup, so a client
 * created, changed, disabled or deleted by the clients tool counts at once on every instance. There
 * is no cache of our own: oidc-provider keeps validated Client objects keyed by a hash of their
 * metadata, so an unchanged client is not validated again, and a changed one never served stale.
 * A disabled client is reported as unknown (invalid_client).
 */
export function createRegisteredClientAdapter(store: ClientStore, box: SecretBox, logger: Logger): Adapter {
  const readOnly = async () => {
    throw new Error('registered clients are managed with npm run clients, not through oidc-provider');
  };
  return {
    async find(id) {
      const client = await store.find(id);
      if (!client || client.disabled) return undefined;
      const payload: AdapterPayload = { ...client.metadata, client_id: client.clientId };
      if (client.sealedSecret) {
        try {
          payload.client_secret = box.open(client.sealedSecret);
        } catch (error) {
          logger.error({ event: 'client.secret_unreadable', clientId: id, err: error }, 'client secret cannot be decrypted; check IDP_CLIENT_SECRET_KEYS');
          return undefined;
        }
      }
      return payload;
    },
    upsert: readOnly,
    consume: readOnly,
    destroy: readOnly,
    revokeByGrantId: async () => {},
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
  };
}

/** oidc-provider's adapter factory with the Client model served by the registered clients. */
export function withRegisteredClients(factory: OidcAdapterFactory, clients: Adapter): OidcAdapterFactory {
  return function routeModel(model) {
    return model === 'Client' ? clients : factory(model);
  };
}

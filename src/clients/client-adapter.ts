import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Logger } from 'pino';
import type { ClientStore, OidcAdapterFactory } from '../storage/ports.ts';
import type { SecretBox } from './secret-box.ts';

/**
 * oidc-provider's `Client` model, read from the registered clients on every lookup. The store given
 * here caches (src/storage/cached-client-store.ts) and drops a client as soon as a change to it is
 * announced, so a client changed, disabled or deleted by the clients tool counts at once on every
 * instance (see the README for the bound when an announcement is lost). oidc-provider keeps
 * validated Client objects keyed by a hash of their metadata, so an unchanged client is not
 * validated again, and a changed one is never served stale. A disabled client is reported as
 * unknown (invalid_client).
 */
export function createRegisteredClientAdapter(
  store: ClientStore,
  box: SecretBox,
  logger: Logger,
): Adapter & { disabledName(clientId: string): string | undefined } {
  const readOnly = async () => {
    throw new Error('registered clients are managed with npm run clients, not through oidc-provider');
  };
  // Opening a sealed secret (AES-GCM) at every lookup showed in token endpoint profiles; the
  // opened secret is kept per client for as long as its sealed value does not change.
  const opened = new Map<string, { sealed: string; secret: string }>();
  const open = (clientId: string, sealed: string) => {
    const known = opened.get(clientId);
    if (known?.sealed === sealed) return known.secret;
    const secret = box.open(sealed);
    opened.set(clientId, { sealed, secret });
    return secret;
  };
  // The names of the disabled clients lately asked for, so the error page can say "disabled" rather
  // than "not registered" without a second lookup; at most 1000, the oldest going first.
  const disabled = new Map<string, string>();
  const noteDisabled = (id: string, name: string | undefined) => {
    disabled.delete(id);
    if (name === undefined) return;
    disabled.set(id, name);
    for (const oldest of disabled.keys()) {
      if (disabled.size <= 1000) break;
      disabled.delete(oldest);
    }
  };
  return {
    disabledName: (clientId) => disabled.get(clientId),
    async find(id) {
      const client = await store.find(id);
      const name = client?.metadata.client_name;
      noteDisabled(id, client?.disabled ? (typeof name === 'string' && name !== '' ? name : id) : undefined);
      if (!client || client.disabled) {
        opened.delete(id);
        return undefined;
      }
      const payload: AdapterPayload = { ...client.metadata, client_id: client.clientId };
      if (client.sealedSecret) {
        try {
          payload.client_secret = open(client.clientId, client.sealedSecret);
        } catch (error) {
          logger.error(
            { event: 'client.secret_unreadable', clientId: id, err: error },
            'client secret cannot be decrypted; check IDP_CLIENT_SECRET_KEYS',
          );
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

import type { ClientStore, StoredClient } from '../ports.ts';

/** Registered clients in process memory (embedded mode and tests); same semantics as MongoDB. */
export function createMemoryClientStore(): ClientStore {
  const clients = new Map<string, StoredClient>();
  const copy = (client: StoredClient): StoredClient => ({ ...client, metadata: structuredClone(client.metadata) });
  return {
    async find(clientId) {
      const client = clients.get(clientId);
      return client ? copy(client) : undefined;
    },
    async list() {
      return [...clients.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map(copy);
    },
    async create(input) {
      if (clients.has(input.clientId)) throw new Error(`client "${input.clientId}" already exists`);
      const now = new Date();
      const client = { ...input, metadata: structuredClone(input.metadata), createdAt: now, updatedAt: now };
      clients.set(client.clientId, client);
      return copy(client);
    },
    async update(clientId, changes) {
      const client = clients.get(clientId);
      if (!client) return undefined;
      const updated = { ...client, ...changes, updatedAt: new Date() };
      clients.set(clientId, updated);
      return copy(updated);
    },
    async delete(clientId) {
      return clients.delete(clientId);
    },
  };
}

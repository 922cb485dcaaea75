import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { ClientStore } from '../../src/storage/ports.ts';

/** One suite for every store of administrator-registered clients. */
export function describeClientStoreContract(name: string, open: () => Promise<{ clients: ClientStore; close(): Promise<void> }>): void {
  describe(`client store contract: ${name}`, () => {
    let clients: ClientStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ clients, close } = await open());
    });
    afterAll(() => close());

    const metadata = {
      client_name: 'App',
      redirect_uris: ['https://a.example/cb'],
      grant_types: ['authorization_code'],
      response_types: [] as string[],
    };

    test('creates, finds and lists clients with their metadata intact', async () => {
      const created = await clients.create({ clientId: 'app-1', metadata, sealedSecret: 'v1.k.iv.tag.ct', disabled: false });
      expect(created).toMatchObject({ clientId: 'app-1', metadata, sealedSecret: 'v1.k.iv.tag.ct', disabled: false });
      expect(await clients.find('app-1')).toEqual(created);
      expect(await clients.find('nope')).toBeUndefined();
      await clients.create({ clientId: 'app-2', metadata, sealedSecret: undefined, disabled: true });
      expect((await clients.list()).map((client) => client.clientId)).toEqual(['app-1', 'app-2']);
    });

    test('a client id is unique', async () => {
      await clients.create({ clientId: 'unique-1', metadata, sealedSecret: undefined, disabled: false });
      await expect(clients.create({ clientId: 'unique-1', metadata, sealedSecret: undefined, disabled: false })).rejects.toThrow();
    });

    test('updates metadata, the secret (or its removal) and the disabled flag; deletes', async () => {
      await clients.create({ clientId: 'app-3', metadata, sealedSecret: 'old', disabled: false });
      const changed = await clients.update('app-3', {
        metadata: { ...metadata, client_name: 'Renamed' },
        sealedSecret: 'new',
        disabled: true,
      });
      expect(changed).toMatchObject({ metadata: { client_name: 'Renamed' }, sealedSecret: 'new', disabled: true });
      expect((await clients.update('app-3', { sealedSecret: undefined }))?.sealedSecret).toBeUndefined();
      expect(await clients.update('missing', { disabled: true })).toBeUndefined();
      expect(await clients.delete('app-3')).toBe(true);
      expect(await clients.delete('app-3')).toBe(false);
      expect(await clients.find('app-3')).toBeUndefined();
    });
  });
}

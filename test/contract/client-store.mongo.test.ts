import { afterAll } from '@jest/globals';
import { connectMongo } from '../../src/storage/mongo/connect-mongo.ts';
import { createMongoClientStore } from '../../src/storage/mongo/mongo-client-store.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { describeClientStoreContract } from './client-store.contract.ts';

const scope = isolation('clients');
afterAll(() => dropIsolation(scope));

describeClientStoreContract('mongodb', async () => {
  const connection = await connectMongo(scope.mongodbUri);
  return { clients: createMongoClientStore(connection), close: () => connection.close() };
});

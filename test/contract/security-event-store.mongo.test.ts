import { afterAll } from '@jest/globals';
import { connectMongo } from '../../src/storage/mongo/connect-mongo.ts';
import { createMongoSecurityEventStore } from '../../src/storage/mongo/mongo-security-event-store.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { describeSecurityEventStoreContract } from './security-event-store.contract.ts';

const scope = isolation('security-events');
afterAll(() => dropIsolation(scope));

describeSecurityEventStoreContract('mongodb', async () => {
  const connection = await connectMongo(scope.mongodbUri);
  const events = createMongoSecurityEventStore(connection);
  await events.ensureIndexes();
  return { events, close: () => connection.close() };
});

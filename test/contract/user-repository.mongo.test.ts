import { afterAll } from '@jest/globals';
import { connectMongo } from '../../src/storage/mongo/connect-mongo.ts';
import { createMongoUserRepository } from '../../src/storage/mongo/mongo-user-repository.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { describeUserRepositoryContract } from './user-repository.contract.ts';

const scope = isolation('users');
afterAll(() => dropIsolation(scope));

describeUserRepositoryContract('mongodb', async () => {
  const connection = await connectMongo(scope.mongodbUri);
  const users = createMongoUserRepository(connection);
  await users.ensureIndexes();
  return { users, close: () => connection.close() };
});

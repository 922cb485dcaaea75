import { afterAll, describe, expect, test } from '@jest/globals';
import { connectMongo, REPLICA_SET_DEFAULTS, replicaSetOptions } from '../../src/storage/mongo/connect-mongo.ts';
import { createMongoUserRepository } from '../../src/storage/mongo/mongo-user-repository.ts';
import { dropIsolation, isolation } from '../support/backends.ts';

/**
 * The replica-set settings (majority writes and reads, retryable writes and reads, primary reads)
 * are what the server connects with, an option the URI names wins, and the MongoDB-wire server of
 * the tests accepts them. FerretDB answers as a single server, so what they add on a real replica
 * set (a write that survives the primary's loss, no read rolled back) cannot be shown here; the
 * README says how an operator checks it.
 */
describe('MongoDB replica-set settings', () => {
  const scope = isolation('mongo-settings');
  afterAll(() => dropIsolation(scope));

  test('a URI option wins over the default of the same name; the others stay', () => {
    expect(replicaSetOptions('mongodb://db-1,db-2,db-3/idp?replicaSet=rs0')).toEqual(REPLICA_SET_DEFAULTS);
    const tuned = replicaSetOptions('mongodb://db-1/idp?w=2&J=false&readPreference=primaryPreferred&retryWrites=false');
    expect(tuned).toEqual({ wtimeoutMS: 10_000, readConcernLevel: 'majority', retryReads: true });
  });

  test('the server connects with them, and users are written and read under them', async () => {
    const connection = await connectMongo(scope.mongodbUri);
    try {
      const options = connection.getClient().options;
      expect(options.writeConcern).toMatchObject({ w: 'majority', journal: true, wtimeoutMS: 10_000 });
      expect(options.readConcern).toMatchObject({ level: 'majority' });
      expect(options.readPreference?.mode).toBe('primary');
      expect(options).toMatchObject({ retryWrites: true, retryReads: true });
      const users = createMongoUserRepository(connection);
      await users.ensureIndexes();
      const created = await users.create({ username: 'Rs', usernameKey: 'rs', email: 'rs@example.com', passwordHash: 'h' });
      expect((await users.findById(created.id))?.email).toBe('rs@example.com');
      expect((await users.findByEmail('rs@example.com'))?.id).toBe(created.id);
    } finally {
      await connection.close();
    }
  });
});

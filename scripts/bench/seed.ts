import { loadPasswordBlocklist } from '../../src/users/password-blocklist.ts';
import { createUserServices } from '../../src/users/create-user-services.ts';
import { createClientAdmin } from '../../src/clients/client-admin.ts';
import { createSecretBox } from '../../src/clients/secret-box.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logging/create-logger.ts';
import { VIEWS_DIR } from '../../src/paths.ts';
import { createStores } from '../../src/storage/create-stores.ts';
import { providerValidator } from '../lib/provider-validator.ts';
import type { BenchClient, BenchUser } from './fixtures.ts';

/**
 * Registers the benchmark's clients and users in the server's MongoDB through the same services
 * the admin tools use (so the secrets are sealed and the passwords hashed as in production).
 */
export async function seed(config: Config, clients: BenchClient[], users: BenchUser[]): Promise<void> {
  const stores = await createStores({
    mongodbUri: config.mongodbUri,
    redisUrl: config.redisUrl,
    redisKeyPrefix: config.redisKeyPrefix,
    clockTolerance: config.clockTolerance,
  });
  try {
    const admin = createClientAdmin({
      store: stores.clients,
      box: createSecretBox(config.clientSecretKeys ?? []),
      validateWithProvider: await providerValidator(config, stores),
    });
    await admin.apply(
      await admin.plan(clients.map((client) => ({ clientId: client.clientId, spec: client.spec, disabled: false, secret: client.secret }))),
    );
    const blocklist = await loadPasswordBlocklist(config.password);
    const { userService } = createUserServices({ config, stores, blocklist, viewsDir: VIEWS_DIR, logger: createLogger('silent') });
    for (const user of users) {
      const result = await userService.register({ ...user, confirmPassword: user.password });
      if (!result.ok) throw new Error(`cannot register bench user ${user.username}: ${JSON.stringify(result.errors)}`);
    }
  } finally {
    await stores.close();
  }
}

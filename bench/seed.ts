import { assembleTools } from '../src/assemble.ts';
import type { Config } from '../src/config/schema.ts';
import type { BenchClient, BenchUser } from './fixtures.ts';

/**
 * Registers the benchmark's clients and users in the server's MongoDB through the same services
 * the admin tools use (so the secrets are sealed and the passwords hashed as in production).
 */
export async function seed(config: Config, clients: BenchClient[], users: BenchUser[]): Promise<void> {
  const tools = await assembleTools(config);
  try {
    const admin = await tools.clients();
    await admin.apply(
      await admin.plan(clients.map((client) => ({ clientId: client.clientId, spec: client.spec, disabled: false, secret: client.secret }))),
    );
    const { userService } = await tools.users();
    for (const user of users) {
      const result = await userService.register({ ...user, confirmPassword: user.password });
      if (!result.ok) throw new Error(`cannot register bench user ${user.username}: ${JSON.stringify(result.errors)}`);
    }
  } finally {
    await tools.close();
  }
}

import type { Logger } from 'pino';
import type { ClientAdmin, PlannedStep } from '../clients/client-admin.ts';
import { ClientSpecError } from '../clients/client-spec.ts';
import { AppError } from '../errors.ts';
import type { SeedUsers } from '../users/seed-users.ts';
import type { Seed } from './seed-file.ts';

export interface SeedReport {
  clients: { created: string[]; present: string[]; differing: string[] };
  users: { created: string[]; present: string[] };
}

/**
 * Applies a seed file: each client and user is created when missing and left alone when present,
 * so the file can be applied at every start (and by several instances at once) and a change made
 * since with the tools survives. Everything is checked before anything is written: a bad entry
 * stops the start with one line per problem, naming its path in the file. Reported in one log line.
 *
 * In production, secrets written in the file as they are get a warning naming each: the file then
 * has to be kept like a secret itself, where a variable's name (`secret_env`) and an argon2
 * `password_hash` let it live in the repository. Development test stacks are what plain values are for.
 */
export async function applySeed(
  seed: Seed,
  clients: ClientAdmin,
  seedUsers: SeedUsers,
  logger: Logger,
  { production = false }: { production?: boolean } = {},
): Promise<SeedReport> {
  if (production && seed.plainSecrets.length > 0)
    logger.warn(
      { event: 'seed.plain_secrets', file: seed.path, paths: seed.plainSecrets },
      `seed file ${seed.path} holds secrets as they are (${seed.plainSecrets.join(', ')}): in production give client secrets by a variable's name (secret_env) and users a password_hash`,
    );
  const problems = seedUsers.problems(seed.users);
  const planned: PlannedStep[] = [];
  for (const [index, entry] of seed.clients.entries()) {
    try {
      planned.push(...(await clients.plan([entry])));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const field = error instanceof ClientSpecError ? `.${error.field}` : '';
      problems.push(`clients[${index}]${field}: ${error.message}`);
    }
  }
  if (problems.length > 0)
    throw new AppError('startup', problems.map((problem) => `seedFile (IDP_SEED_FILE): ${seed.path}: ${problem}`).join('\n'));

  await clients.apply(planned.filter((step) => step.action === 'create'));
  const report: SeedReport = {
    clients: {
      created: planned.filter((step) => step.action === 'create').map((step) => step.clientId),
      present: planned.filter((step) => step.action !== 'create').map((step) => step.clientId),
      differing: planned.filter((step) => step.action === 'change').map((step) => step.clientId),
    },
    users: { created: [], present: [] },
  };
  for (const user of seed.users) report.users[await seedUsers.ensure(user)].push(user.username);
  const { clients: c, users: u } = report;
  logger.info(
    { event: 'seed.applied', file: seed.path, clients: c, users: u },
    `seed file ${seed.path}: created ${c.created.length} clients and ${u.created.length} users; ${c.present.length} clients and ${u.present.length} users were present and left alone${c.differing.length > 0 ? ` (${c.differing.join(', ')} differ from the file)` : ''}`,
  );
  return report;
}

import { Writable } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import type { ClientAdmin } from '../../../src/clients/client-admin.ts';
import { applySeed } from '../../../src/seed/apply-seed.ts';
import type { Seed } from '../../../src/seed/seed-file.ts';
import type { SeedUsers } from '../../../src/users/seed-users.ts';

/** A seed with nothing to create: only what the file held as plain secrets matters here. */
const seed = (plainSecrets: string[]): Seed => ({
  path: '/srv/seed.yaml',
  claimScopes: {},
  demoClientSecret: undefined,
  clients: [],
  users: [],
  plainSecrets,
});
// Nothing is planned or created for an empty seed; these answer as the real ones do for no entries.
const clients = { plan: async () => [], apply: async () => ({}) } as unknown as ClientAdmin;
const seedUsers = { problems: () => [], ensure: async () => 'present' } as unknown as SeedUsers;

async function warningsOf(plainSecrets: string[], production: boolean) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
  await applySeed(seed(plainSecrets), clients, seedUsers, logger, { production });
  return lines.filter((line) => line.event === 'seed.plain_secrets');
}

describe('applying a seed file', () => {
  test('in production, secrets written in the file as they are get one warning naming each', async () => {
    const [warning, ...more] = await warningsOf(['clients[0].client_secret', 'users[1].password'], true);
    expect(more).toEqual([]);
    expect(warning).toMatchObject({ level: 40, file: '/srv/seed.yaml', paths: ['clients[0].client_secret', 'users[1].password'] });
    expect(warning?.msg).toContain('secret_env');
    expect(warning?.msg).toContain('password_hash');
  });

  test('outside production, or with variables and hashes only, nothing is said', async () => {
    expect(await warningsOf(['users[0].password'], false)).toEqual([]);
    expect(await warningsOf([], true)).toEqual([]);
  });
});

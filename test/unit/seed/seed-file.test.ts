import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { loadSeedFile } from '../../../src/seed/seed-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'idp-seed-unit-'));
const write = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};

describe('seed file', () => {
  test("the README's first section shows examples/seed.yaml as it is", () => {
    const example = readFileSync(new URL('../../../examples/seed.yaml', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const indented = example
      .split('\n')
      .map((line) => (line ? `   ${line}` : line))
      .join('\n');
    expect(readme).toContain(`   \`\`\`yaml\n${indented}   \`\`\``);
  });

  test('a JSON file: users normalized, a secret from secret_env, the demo client pinned, claim scopes kept', async () => {
    const path = write('seed.json', {
      claim_scopes: { org: ['employee_id'] },
      demo_client: { client_secret: 'd'.repeat(32) },
      clients: [{ client_id: 'api', grant_types: ['client_credentials'], secret_env: 'API_SECRET' }],
      users: [{ username: 'Ada', email: ' Ada@Example.COM ', name: '  Ada  ', password: 'p'.repeat(20), claims: { employee_id: 7 } }],
    });
    const result = await loadSeedFile(path, { API_SECRET: 's'.repeat(40) });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.seed).toMatchObject({
      claimScopes: { org: ['employee_id'] },
      demoClientSecret: 'd'.repeat(32),
      clients: [
        {
          clientId: 'api',
          secret: 's'.repeat(40),
          spec: { name: 'api', authMethod: 'client_secret_basic', grantTypes: ['client_credentials'] },
        },
      ],
      users: [{ username: 'Ada', email: 'ada@example.com', name: 'Ada', verified: false, groups: [], claims: { employee_id: 7 } }],
    });
  });

  test('it says where the file holds secrets as they are: not for a variable name or a password hash', async () => {
    const path = write('plain.json', {
      demo_client: { client_secret: 'd'.repeat(32) },
      clients: [
        { client_id: 'by-env', grant_types: ['client_credentials'], secret_env: 'API_SECRET' },
        { client_id: 'plain', grant_types: ['client_credentials'], client_secret: 'c'.repeat(40) },
      ],
      users: [
        {
          username: 'hashed',
          email: 'hashed@example.com',
          password_hash: `$argon2id$v=19$m=19456,t=2,p=1$${'a'.repeat(22)}$${'b'.repeat(43)}`,
        },
        { username: 'plain', email: 'plain@example.com', password: 'p'.repeat(20) },
      ],
    });
    const result = await loadSeedFile(path, { API_SECRET: 's'.repeat(40) });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.seed.plainSecrets).toEqual(['demo_client.client_secret', 'clients[1].client_secret', 'users[1].password']);
  });

  test('duplicates, a missing secret variable and a file that is not YAML are each named', async () => {
    const duplicates = await loadSeedFile(
      write('dup.yaml', {
        clients: [
          { client_id: 'one', token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost/cb'] },
          { client_id: 'one', token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost/cb'] },
        ],
        users: [
          { username: 'ann', email: 'ann@example.com', password: 'x'.repeat(20) },
          { username: 'ANN', email: 'ann@example.com', password: 'x'.repeat(20) },
        ],
      }),
      {},
    );
    expect(duplicates).toEqual({
      ok: false,
      problems: [
        'clients[1].client_id: the client_id "one" is already used by clients[0]',
        'users[1].username: the username "ann" is already used by users[0]',
        'users[1].email: the email "ann@example.com" is already used by users[0]',
      ],
    });
    expect(await loadSeedFile(write('env.yaml', { clients: [{ client_id: 'api', secret_env: 'NOPE' }] }), {})).toEqual({
      ok: false,
      problems: ['clients[0].secret_env: the variable NOPE is not set'],
    });
    const broken = await loadSeedFile(write('broken.yaml', 'clients: [unclosed'), {});
    expect(broken.ok || broken.problems).toEqual([expect.stringMatching(/broken\.yaml is not valid YAML: /)]);
    expect(await loadSeedFile(join(dir, 'missing.yaml'), {})).toEqual({
      ok: false,
      problems: [`cannot read ${join(dir, 'missing.yaml')}`],
    });
  });
});

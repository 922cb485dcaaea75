import { describe, expect, jest, test } from '@jest/globals';
import { runTool } from '../support/cli.ts';

// Each case starts a tool as a process (a Node start-up each); they run side by side.
jest.setTimeout(90_000);

/** Every admin tool explains itself, and says plainly what is wrong when it cannot run. */
describe('the tools explain themselves', () => {
  test('--help, -h and help print what the tool does, its commands or options and an example, and exit 0', async () => {
    const cases: Array<[tool: string, args: string[], expected: string]> = [
      ['users', ['--help'], 'usage: npm run users -- <command>'],
      ['users', ['-h'], 'usage: npm run users -- <command>'],
      ['users', ['help'], 'usage: npm run users -- <command>'],
      ['clients', ['--help'], 'usage: npm run clients -- <command>'],
      ['rotate-keys', ['-h'], 'usage: npm run -s rotate-keys --'],
      ['generate-keys', ['--help'], 'usage: npm run -s keys'],
      ['measure-argon2', ['--help'], 'usage: npm run measure:argon2'],
      ['migrate-redis', ['--help'], 'usage: npm run migrate-redis --'],
    ];
    const results = await Promise.all(cases.map(([tool, args]) => runTool(tool, args, {})));
    for (const [index, [tool, args, expected]] of cases.entries()) {
      const { code, stdout, stderr } = results[index] ?? { code: null, stdout: '', stderr: '' };
      expect({ tool, args, code, stderr }).toEqual({ tool, args, code: 0, stderr: '' });
      expect(stdout.startsWith(expected)).toBe(true);
      expect(stdout).toMatch(/\nExample:\n {2}npm run /);
      expect(stdout).toMatch(/\n(Commands|Options):\n/);
    }
    // A tool with commands lists each one.
    expect(results[0]?.stdout).toMatch(/\n {2}set-password {2}Sets a new password/);
    expect(results[3]?.stdout).toMatch(/\n {2}apply +Declares apps as code/);
  });

  test("each command has its own help: the command's usage, options and example", async () => {
    const [create, apply, add] = await Promise.all([
      runTool('users', ['create', '--help'], {}),
      runTool('clients', ['help', 'apply'], {}),
      runTool('rotate-keys', ['add', '-h'], {}),
    ]);
    expect(create).toMatchObject({ code: 0, stderr: '' });
    expect(create.stdout).toMatch(/^usage: npm run users -- create --username U --email E/);
    expect(create.stdout).toContain('  --password-stdin    read the password from standard input');
    expect(apply).toMatchObject({ code: 0, stderr: '' });
    expect(apply.stdout).toMatch(/^usage: npm run clients -- apply --file clients\.yaml \[--dry-run\]/);
    expect(apply.stdout).toContain('Example:\n  npm run clients -- apply --file clients.yaml --dry-run');
    expect(add).toMatchObject({ code: 0, stderr: '' });
    expect(add.stdout).toMatch(/^usage: npm run -s rotate-keys -- add/);
  });

  test('a usage mistake exits 2 with one line; missing settings exit 1 naming every one at once', async () => {
    const [unknownOption, badNumber, missingUsers, missingClients] = await Promise.all([
      runTool('generate-keys', ['--bogus'], {}),
      runTool('measure-argon2', ['--iterations', 'many'], {}),
      runTool('users', ['list'], {}),
      runTool('clients', ['create', '--name', 'Shop', '--redirect-uri', 'https://shop.example/cb'], {}),
    ]);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/^keys: Unknown option '--bogus'.*usage: npm run -s keys \[-- --json\] \(--help explains\)\n$/);
    expect(badNumber).toMatchObject({ code: 2, stderr: 'measure:argon2: --iterations must be a positive whole number\n' });
    expect(missingUsers).toMatchObject({
      code: 1,
      stderr:
        'users: the users tool needs settings that are not set: MONGODB_URI (the MongoDB the server uses); REDIS_URL (the Redis the server uses: sessions, grants)\n',
    });
    expect(missingClients.code).toBe(1);
    expect(missingClients.stderr).toBe(
      'clients: the clients tool needs settings that are not set: MONGODB_URI (the MongoDB the server uses); IDP_CLIENT_SECRET_KEYS (it encrypts client secrets; npm run keys makes one)\n',
    );
  });
});

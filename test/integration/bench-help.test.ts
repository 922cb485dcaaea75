import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { runToExit } from '../../scripts/lib/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const bench = (args: string[]) =>
  runToExit(process.execPath, ['bench/main.ts', ...args], { name: 'bench', cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdin: '' });

/** The benchmark is run like a tool, so it explains itself like one (and starts nothing to do so). */
describe('npm run bench -- --help', () => {
  test('--help prints the usage on stdout and exits 0; a bad option exits 2', async () => {
    const [help, bad] = await Promise.all([bench(['--help']), bench(['--bogus'])]);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^usage: npm run bench -- \[--quick\]/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^bench: Unknown option '--bogus'/);
  });
});

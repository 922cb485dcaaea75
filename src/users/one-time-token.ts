import { createHash, randomBytes } from 'node:crypto';

/** A fresh random token (256 bits, ASVS 5.0 11.5.1) and the hash that is all the store keeps. */
export function newOneTimeToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOneTimeToken(token) };
}

export function hashOneTimeToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

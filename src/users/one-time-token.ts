import { randomBytes } from 'node:crypto';
import { sha256Base64url } from '../digest.ts';

/** A fresh random token (256 bits, ASVS 5.0 11.5.1) and the hash that is all the store keeps. */
export function newOneTimeToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOneTimeToken(token) };
}

export function hashOneTimeToken(token: string): string {
  return sha256Base64url(token);
}

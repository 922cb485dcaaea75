import { createHash } from 'node:crypto';

/**
 * SHA-256 as base64url: how counter keys, single-use token hashes and PKCE challenges (RFC 7636
 * §4.2, S256) are written. Keys in the stores never hold an address or a token in clear.
 */
export function sha256Base64url(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

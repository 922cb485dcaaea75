import { hkdfSync } from 'node:crypto';

/**
 * The keys that protect second factors at rest, derived from IDP_CLIENT_SECRET_KEYS rather than
 * configured apart: production already must hold those keys outside the database, they rotate the
 * same way (the first key seals, every key opens), and a derived key (HKDF-SHA-256, RFC 5869, one
 * label per use) never equals the key that seals client secrets.
 * - `sealing`: AES-256-GCM keys for TOTP secrets, which must be read back (the server computes codes).
 * - `hashing`: HMAC-SHA-256 keys for recovery codes, stored only as keyed hashes, so a database dump
 *   alone gives nothing to guess against offline (NIST SP 800-63B-4 §3.1.2.1).
 */
export interface FactorKeys {
  sealing: string[];
  hashing: Buffer[];
}

const derive = (key: string, label: string) => Buffer.from(hkdfSync('sha256', Buffer.from(key, 'base64url'), '', label, 32));

export function deriveFactorKeys(secretKeys: readonly string[]): FactorKeys {
  return {
    sealing: secretKeys.map((key) => derive(key, 'idp totp secret v1').toString('base64url')),
    hashing: secretKeys.map((key) => derive(key, 'idp recovery code v1')),
  };
}

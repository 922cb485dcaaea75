import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export interface KeySet {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  /** Encrypt the client secrets stored in MongoDB (AES-256-GCM). */
  clientSecretKeys: string[];
}

/**
 * A fresh private signing key set (RSA for RS256, the default ID token algorithm, and P-256 for
 * ES256) and a cookie signing key. Used by `npm run keys` and, in development only, at start.
 */
export async function generateKeySet(): Promise<KeySet> {
  const keys = await Promise.all([signingKey('RS256', { modulusLength: 2048 }), signingKey('ES256', { crv: 'P-256' })]);
  return { jwks: { keys }, cookieKeys: [generateCookieKey()], clientSecretKeys: [randomBytes(32).toString('base64url')] };
}

function generateCookieKey(): string {
  return randomBytes(32).toString('base64url');
}

async function signingKey(alg: string, options: { modulusLength?: number; crv?: string }): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { ...options, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg, use: 'sig' };
}

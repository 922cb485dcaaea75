import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Client secrets at rest. oidc-provider compares client secrets in plaintext (client_secret_basic,
 * client_secret_post, and as the HMAC key of client_secret_jwt), so they cannot be stored as a hash.
 * They are stored encrypted with AES-256-GCM under a key that lives only in the environment
 * (IDP_CLIENT_SECRET_KEYS), so a database dump alone hands out no usable secret. The first key
 * encrypts; every key decrypts, so keys can be rotated.
 *
 * Format: `v1.<key id>.<iv>.<tag>.<ciphertext>`, each part base64url; the key id is the first 8
 * bytes of SHA-256 of the key.
 */
export interface SecretBox {
  seal(secret: string): string;
  /** @throws Error when no configured key opened it (wrong key, or tampered). */
  open(sealed: string): string;
  /** Whether `sealed` was sealed with the current (first) key, or needs sealing again after a rotation. */
  isCurrent(sealed: string): boolean;
}

/** `what` names the secrets in error messages (the keys always come from IDP_CLIENT_SECRET_KEYS). */
export function createSecretBox(keys: readonly string[], what = 'client secret'): SecretBox {
  const decoded = keys.map((key) => {
    const bytes = Buffer.from(key, 'base64url');
    if (bytes.length !== 32) throw new Error('each client secret key must be 32 bytes, base64url-encoded (npm run keys makes one)');
    return { id: createHash('sha256').update(bytes).digest().subarray(0, 8).toString('base64url'), bytes };
  });
  const [current] = decoded;
  return {
    isCurrent: (sealed) => current !== undefined && sealed.split('.')[1] === current.id,
    seal(secret) {
      if (!current) throw new Error(`IDP_CLIENT_SECRET_KEYS is not set: it is needed to store ${what}s`);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.bytes, iv);
      const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return ['v1', current.id, iv, cipher.getAuthTag(), ciphertext]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
      if (version !== 'v1' || !keyId || !iv || !tag || ciphertext === undefined) throw new Error(`not a sealed ${what}`);
      const key = decoded.find((candidate) => candidate.id === keyId);
      if (!key) throw new Error(`${what} was sealed with key ${keyId}, which is not in IDP_CLIENT_SECRET_KEYS`);
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

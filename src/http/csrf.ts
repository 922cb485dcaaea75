import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Csrf {
  /** A token for a form bound to `binding` (an interaction uid or a browser-session id). */
  issue(binding: string): string;
  verify(binding: string, token: unknown): boolean;
}

/**
 * Signed synchronizer tokens (OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit Cookie"):
 * `nonce.HMAC(key, binding|nonce)`. The binding is a secret that only the user's browser holds
 * (the interaction uid behind the path-scoped, HttpOnly interaction cookie), so a forged cross-site
 * POST cannot carry a valid token. Keys derive from the cookie keys; every configured key verifies,
 * so rotating cookie keys does not break forms already on screen.
 */
export function createCsrf(secrets: readonly string[]): Csrf {
  const keys = secrets.map((secret) => Buffer.from(hkdfSync('sha256', secret, '', 'idp csrf token v1', 32)));
  const [signingKey] = keys;
  if (!signingKey) throw new Error('CSRF needs at least one secret');

  const mac = (key: Buffer, binding: string, nonce: string) => createHmac('sha256', key).update(`${binding}|${nonce}`).digest();

  return {
    issue(binding) {
      const nonce = randomBytes(16).toString('base64url');
      return `${nonce}.${mac(signingKey, binding, nonce).toString('base64url')}`;
    },
    verify(binding, token) {
      if (typeof token !== 'string' || token.length > 200) return false;
      const [nonce, signature, extra] = token.split('.');
      if (!nonce || !signature || extra !== undefined) return false;
      const given = Buffer.from(signature, 'base64url');
      return keys.some((key) => {
        const expected = mac(key, binding, nonce);
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
    },
  };
}

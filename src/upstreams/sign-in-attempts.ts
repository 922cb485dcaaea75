import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { sha256Base64url } from '../digest.ts';
import type { OneTimeTokenStore } from '../storage/ports.ts';
import type { UpstreamIdentity } from './identity.ts';
import type { AttemptSecrets } from './upstream-client.ts';

/** Where an attempt came from, and so where it goes back to. */
export type AttemptOrigin =
  /** A sign-in (or registration) page of interaction `uid`. */
  | { mode: 'login'; uid: string }
  /** The account page of a signed-in person, adding a sign-in to their account. */
  | { mode: 'link'; userId: string; sessionId: string };

export type Attempt = AttemptSecrets & AttemptOrigin & { upstream: string };

/** How long a person may take at the upstream (sign in, consent) before the attempt is forgotten. */
export const ATTEMPT_TTL_SECONDS = 10 * 60;

const ATTEMPT = 'upstream-attempt';
const PENDING = 'upstream-pending';

export interface PendingSignIn {
  uid: string;
  identity: UpstreamIdentity;
}

export interface SignInAttempts {
  /**
   * Fresh state, nonce and PKCE verifier for one trip to the upstream, kept server-side under the
   * state's hash. With `fresh`, the person must authenticate anew at the upstream.
   */
  start(upstream: string, origin: AttemptOrigin, options?: { fresh?: boolean }): Promise<AttemptSecrets>;
  /** The attempt a state belongs to, once: a second callback with the same state finds nothing (RFC 9700 §4.7). */
  consume(state: string): Promise<Attempt | undefined>;
  /** Keeps who the upstream said signed in until the interaction's pages finish with it; returns a handle. */
  savePending(pending: PendingSignIn): Promise<string>;
  findPending(handle: string): Promise<PendingSignIn | undefined>;
  dropPending(handle: string): Promise<void>;
}

/**
 * State, nonce and PKCE verifier of each trip to an upstream, in the single-use token store (Redis
 * with a TTL; consumed with GETDEL). The store sees only hashes of the state and of the handles.
 */
export function createSignInAttempts(tokens: OneTimeTokenStore): SignInAttempts {
  return {
    async start(upstream, origin, { fresh = false } = {}) {
      const secrets: AttemptSecrets = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        codeVerifier: oidc.randomPKCECodeVerifier(),
        ...(fresh ? { freshSince: Math.floor(Date.now() / 1000) } : {}),
      };
      const record = { ...secrets, ...origin, upstream };
      await tokens.save(ATTEMPT, sha256Base64url(secrets.state), { json: JSON.stringify(record) }, ATTEMPT_TTL_SECONDS);
      return secrets;
    },
    async consume(state) {
      if (state.length === 0 || state.length > 200) return undefined;
      const stored = await tokens.consume(ATTEMPT, sha256Base64url(state));
      return stored?.json ? (JSON.parse(stored.json) as Attempt) : undefined;
    },
    async savePending(pending) {
      const handle = randomBytes(32).toString('base64url');
      await tokens.save(PENDING, sha256Base64url(handle), { json: JSON.stringify(pending) }, ATTEMPT_TTL_SECONDS);
      return handle;
    },
    async findPending(handle) {
      if (handle.length === 0 || handle.length > 100) return undefined;
      const stored = await tokens.find(PENDING, sha256Base64url(handle));
      return stored?.json ? (JSON.parse(stored.json) as PendingSignIn) : undefined;
    },
    async dropPending(handle) {
      await tokens.consume(PENDING, sha256Base64url(handle));
    },
  };
}

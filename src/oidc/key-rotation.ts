import type { JWK } from 'jose';
import { generateKeySet } from './keys.ts';

export type RotationStage = 'add' | 'promote' | 'retire';
export interface Jwks {
  keys: JWK[];
}

/**
 * Signing-key rotation without downtime, in three stages, each deployed to every instance (a rolling
 * restart) before the next one starts. oidc-provider signs with the first key of the algorithm and
 * verifies (and publishes) all of them.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#jwks
 *
 * 1. add:     new keys go to the END: published in the JWKS, not yet signing, so every relying party
 *             can fetch them before they are used.
 * 2. promote: the new keys move to the FRONT: they sign; the old ones stay published, so tokens
 *             signed before keep verifying until they expire.
 * 3. retire:  once the longest token lifetime has passed, only the front keys (one per algorithm)
 *             remain.
 */
export async function rotateJwks(current: Jwks, stage: RotationStage): Promise<Jwks> {
  const algs = (jwks: Jwks) => jwks.keys.map((key) => key.alg);
  switch (stage) {
    case 'add': {
      const fresh = (await generateKeySet()).jwks.keys;
      return { keys: [...current.keys, ...fresh] };
    }
    case 'promote': {
      // The newest key of each algorithm is the last one; it moves ahead of the others.
      const newest = new Map<string | undefined, JWK>();
      for (const key of current.keys) newest.set(key.alg, key);
      if ([...newest.values()].every((key) => current.keys.indexOf(key) === algs(current).indexOf(key.alg))) {
        throw new Error('nothing to promote: run the add stage first');
      }
      const promoted = [...newest.values()];
      return { keys: [...promoted, ...current.keys.filter((key) => !promoted.includes(key))] };
    }
    case 'retire': {
      const kept = current.keys.filter((key, index) => algs(current).indexOf(key.alg) === index);
      if (kept.length === current.keys.length) throw new Error('nothing to retire: only one key per algorithm is left');
      return { keys: kept };
    }
  }
}

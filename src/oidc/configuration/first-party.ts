import { errors } from 'oidc-provider';
import type { ExtraClientMetadata } from './extra-client-metadata.ts';

/**
 * Client metadata `first_party`: the operator's own app, which people do not need to be asked about.
 * Off unless set by an administrator (the clients tool, an apply file, the seed file).
 */
export const FIRST_PARTY = 'first_party';

/** oidc-provider's extraClientMetadata share for `first_party`: a boolean. */
export function firstPartyMetadata(): ExtraClientMetadata {
  return {
    properties: [FIRST_PARTY],
    validator: (_ctx, key, value) => {
      if (key === FIRST_PARTY && value !== undefined && typeof value !== 'boolean')
        throw new errors.InvalidClientMetadata('first_party must be true or false');
    },
  };
}

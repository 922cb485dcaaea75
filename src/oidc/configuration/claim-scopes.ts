import type { Config } from '../../config/schema.ts';
import { CLAIMS, SCOPES } from './claims.ts';

export type ClaimScopes = Config['claimScopes'];

/**
 * oidc-provider's `claims` and `scopes` with the users' extra claims tied to the scopes that release
 * them (IDP_CLAIM_SCOPES, or the seed file's `claim_scopes`), e.g. `{"profile": ["department"],
 * "org": ["employee_id", "cost_center"]}`. A scope of its own ("org") becomes a scope apps may ask
 * for; a standard one ("profile") releases the extra claims along with its own. oidc-provider only
 * releases claims listed here, so an extra claim no scope names stays on the account, unreleased.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#claims
 */
export function claimsConfiguration(claimScopes: ClaimScopes): { claims: Record<string, string[]>; scopes: string[] } {
  const claims: Record<string, string[]> = Object.fromEntries(Object.entries(CLAIMS).map(([scope, names]) => [scope, [...names]]));
  for (const [scope, names] of Object.entries(claimScopes)) claims[scope] = [...(claims[scope] ?? []), ...names];
  return { claims, scopes: [...new Set([...SCOPES, ...Object.keys(claimScopes)])] };
}

/** Every scope a client may be registered for (`scope` metadata): the standard ones and those of the extra claims. */
export function supportedScopes(claimScopes: ClaimScopes): string[] {
  return claimsConfiguration(claimScopes).scopes;
}

/** The scope that releases an extra claim, or undefined when none does. */
export function scopeOfClaim(claimScopes: ClaimScopes, claim: string): string | undefined {
  return Object.entries(claimScopes).find(([, names]) => names.includes(claim))?.[0];
}

/**
 * Both declarations together (the configuration's and the seed file's); a claim two of them tie to
 * different scopes is an error, returned as text.
 */
export function mergeClaimScopes(
  first: ClaimScopes,
  second: ClaimScopes,
): { ok: true; value: ClaimScopes } | { ok: false; problem: string } {
  const merged: ClaimScopes = Object.fromEntries(Object.entries(first).map(([scope, names]) => [scope, [...names]]));
  for (const [scope, names] of Object.entries(second)) {
    for (const claim of names) {
      const other = scopeOfClaim(merged, claim);
      if (other !== undefined && other !== scope)
        return { ok: false, problem: `the claim "${claim}" is tied to the scope "${scope}" here and to "${other}" by IDP_CLAIM_SCOPES` };
      if (other === undefined) merged[scope] = [...(merged[scope] ?? []), claim];
    }
  }
  return { ok: true, value: merged };
}

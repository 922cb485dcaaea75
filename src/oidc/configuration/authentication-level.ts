import { type Configuration, errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import { ACR_MFA, ACR_PASSWORD } from './claims.ts';

/** Client metadata: `require_mfa: true` makes every sign-in to the client need a second factor. */
export const REQUIRE_MFA = 'require_mfa';

const LEVELS: Readonly<Record<string, number>> = { [ACR_PASSWORD]: 1, [ACR_MFA]: 2 };

/** The level an `acr` value stands for: 0 for none or one we do not issue. */
export function levelOf(acr: unknown): number {
  return typeof acr === 'string' ? (LEVELS[acr] ?? 0) : 0;
}

export function acrOf(level: number): string {
  return level >= 2 ? ACR_MFA : ACR_PASSWORD;
}

/** What an authorization request says about the level, as oidc-provider stores its parameters. */
export interface LevelRequest {
  acr_values?: unknown;
  claims?: unknown;
}

export function clientRequiresMfa(client: unknown): boolean {
  return typeof client === 'object' && client !== null && (client as Record<string, unknown>)[REQUIRE_MFA] === true;
}

/**
 * The level a sign-in must reach for this request: the highest of the server's policy (IDP_MFA), the
 * client's (`require_mfa`) and the request's. A request asks with `acr_values` (voluntary, in order
 * of preference: the first value we issue is the target, OpenID Connect Core §3.1.2.1) or with an
 * essential `acr` in the claims parameter (§5.5.1.1: the lowest of its values we issue). Levels are
 * ordered: "2" satisfies a request for "1". Values we do not issue are ignored.
 */
export function requiredLevel(params: LevelRequest, client: unknown, policy: Config['mfa']): number {
  const fromPolicy = policy === 'required' || clientRequiresMfa(client) ? 2 : 1;
  return Math.max(fromPolicy, fromAcrValues(params.acr_values), fromEssentialClaim(params.claims));
}

function fromAcrValues(value: unknown): number {
  if (typeof value !== 'string') return 0;
  for (const acr of value.split(' ')) if (levelOf(acr) > 0) return levelOf(acr);
  return 0;
}

function fromEssentialClaim(value: unknown): number {
  let claims: unknown = value;
  if (typeof value === 'string') {
    try {
      claims = JSON.parse(value);
    } catch {
      return 0;
    }
  }
  const acr = (claims as { id_token?: { acr?: { essential?: unknown; value?: unknown; values?: unknown } } } | undefined)?.id_token?.acr;
  if (acr?.essential !== true) return 0;
  const values = Array.isArray(acr.values) ? acr.values : [acr.value];
  const known = values.map(levelOf).filter((level) => level > 0);
  return known.length > 0 ? Math.min(...known) : 0;
}

/**
 * oidc-provider's interaction policy with one check added to the login prompt: a signed-in person
 * whose session has not reached the level the request needs is asked again (reason `mfa_required`),
 * and the sign-in pages then ask only for the missing second factor (step-up). The library's own
 * essential-acr checks compare values for equality, which would ask forever for "1" once a session
 * is at "2"; this check replaces them with ordered levels.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#interactionspolicy
 */
export function interactionPolicyWithLevels(policy: Config['mfa']): NonNullable<NonNullable<Configuration['interactions']>['policy']> {
  const prompts = interactionPolicy.base();
  const login = prompts.get('login');
  if (!login) throw new Error('oidc-provider has no login prompt');
  login.checks.remove('essential_acrs');
  login.checks.remove('essential_acr');
  login.checks.add(
    new interactionPolicy.Check(
      'mfa_required',
      'the requested authentication level needs a second factor',
      'login_required',
      (ctx: KoaContextWithOIDC) => {
        const { oidc } = ctx;
        if (!oidc.session?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        // A session is at least one factor, also one saved before sessions carried an acr.
        return Math.max(1, levelOf(oidc.acr)) < requiredLevel(oidc.params ?? {}, oidc.client, policy);
      },
      (ctx: KoaContextWithOIDC) => ({ acr: acrOf(requiredLevel(ctx.oidc.params ?? {}, ctx.oidc.client, policy)) }),
    ),
  );
  return prompts;
}

/** oidc-provider's extraClientMetadata for `require_mfa` (a boolean). */
export const mfaClientMetadata = {
  properties: [REQUIRE_MFA],
  validate(key: string, value: unknown): void {
    if (key === REQUIRE_MFA && value !== undefined && typeof value !== 'boolean') {
      throw new errors.InvalidClientMetadata(`${REQUIRE_MFA} must be true or false`);
    }
  },
};

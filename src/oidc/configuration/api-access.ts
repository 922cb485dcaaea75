import { type Client, type Configuration, errors } from 'oidc-provider';
import type { Config } from '../../config/schema.ts';

/**
 * Which APIs (IDP_RESOURCES) a client may get access tokens for, and with which of their scopes:
 * client metadata `resource_scopes`, e.g. `[{ "indicator": "https://api.example.com", "scopes":
 * ["orders:read"] }]`, shaped like IDP_RESOURCES (a list, not an object keyed by URL: MongoDB keys
 * cannot hold dots). A client without an entry for an API gets no token for it (deny by default).
 */
export const RESOURCE_SCOPES = 'resource_scopes';

export type ResourceScopes = Array<{ indicator: string; scopes: string[] }>;

/** What is wrong with the shape of a `resource_scopes` value, or undefined when it is well formed. */
function resourceScopesShapeProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return 'resource_scopes must be a list of {"indicator", "scopes"}';
  const seen = new Set<string>();
  for (const [index, entry] of value.entries()) {
    const { indicator, scopes } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof indicator !== 'string' || indicator === '') return `resource_scopes[${index}] needs an "indicator" (the API's URL)`;
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((scope) => typeof scope === 'string' && scope !== '')) {
      return `resource_scopes[${index}] (${indicator}) needs a non-empty list of "scopes"`;
    }
    if (seen.has(indicator)) return `resource_scopes names ${indicator} twice`;
    seen.add(indicator);
  }
  return undefined;
}

/**
 * What is wrong with `resource_scopes` against the configured APIs: an indicator that is not in
 * IDP_RESOURCES, or a scope that API does not have. Checked when a client is registered or the
 * server starts with a clients file; a stored client whose API was later removed from the
 * configuration keeps working for everything else (that API is then refused with invalid_target).
 */
export function resourceScopesProblem(value: unknown, apis: Config['resources']): string | undefined {
  const shape = resourceScopesShapeProblem(value);
  if (shape || value === undefined) return shape;
  const byIndicator = new Map(apis.map((api) => [api.indicator, api]));
  for (const { indicator, scopes } of value as ResourceScopes) {
    const api = byIndicator.get(indicator);
    if (!api) {
      const known = apis.map((each) => each.indicator).join(', ');
      return `unknown API "${indicator}" in resource_scopes; ${known ? `IDP_RESOURCES has ${known}` : 'IDP_RESOURCES configures none'}`;
    }
    const unknown = scopes.find((scope) => !api.scopes.includes(scope));
    if (unknown) return `the API ${indicator} has no scope "${unknown}"; it has ${api.scopes.join(', ')}`;
  }
  return undefined;
}

/** oidc-provider's extraClientMetadata: stores `resource_scopes` with the client, checking its shape. */
export function apiAccessMetadata(): NonNullable<Configuration['extraClientMetadata']> {
  return {
    properties: [RESOURCE_SCOPES],
    validator: (_ctx, key, value) => {
      if (key !== RESOURCE_SCOPES) return;
      const problem = resourceScopesShapeProblem(value);
      if (problem) throw new errors.InvalidClientMetadata(problem);
    },
  };
}

/**
 * The scopes of `api` this client may receive (what the resource server info grants).
 * @throws InvalidTarget when the client is registered for none of them.
 * @throws InvalidScope when the request names one of the API's scopes the client is not registered for.
 */
export function grantableScopes(
  ctx: { oidc?: { params?: Record<string, unknown> } },
  client: Client | undefined,
  api: Config['resources'][number],
): string[] {
  // Extra metadata keeps its own name on the client (oidc-provider camel-cases only its own properties).
  const registered = (client as { [RESOURCE_SCOPES]?: ResourceScopes } | undefined)?.[RESOURCE_SCOPES]?.find(
    (entry) => entry.indicator === api.indicator,
  )?.scopes;
  if (!registered) throw new errors.InvalidTarget(`this client is not registered for the API ${api.indicator}`);
  const requested = ctx.oidc?.params?.scope;
  if (typeof requested === 'string') {
    const refused = requested.split(' ').find((scope) => api.scopes.includes(scope) && !registered.includes(scope));
    if (refused) throw new errors.InvalidScope(`this client is not registered for the scope ${refused} of ${api.indicator}`, refused);
  }
  const grantable = api.scopes.filter((scope) => registered.includes(scope));
  if (grantable.length === 0) throw new errors.InvalidTarget(`this client is not registered for any scope of the API ${api.indicator}`);
  return grantable;
}

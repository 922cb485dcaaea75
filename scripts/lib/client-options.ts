import type { ClientSpec } from '../../src/clients/client-admin.ts';
import { AUTH_METHODS, type AuthMethod, type PublicJwks } from '../../src/clients/client-spec.ts';
import { readDocument } from '../../src/read-document.ts';
import { usageError } from './cli.ts';

/**
 * The clients tool's options for what a client is (create and update), and how they become a
 * ClientSpec. Every setting of the client spec has one, so nothing needs the clients file.
 */
export const CLIENT_OPTIONS = {
  name: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  public: { type: 'boolean' },
  'auth-method': { type: 'string' },
  jwks: { type: 'string' },
  'jwks-uri': { type: 'string' },
  'grant-type': { type: 'string', multiple: true },
  scope: { type: 'string' },
  'logo-uri': { type: 'string' },
  'client-uri': { type: 'string' },
  'policy-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
  api: { type: 'string', multiple: true },
  'backchannel-logout-uri': { type: 'string' },
  'backchannel-logout-session-required': { type: 'boolean' },
  'require-par': { type: 'boolean' },
  'first-party': { type: 'boolean' },
  mfa: { type: 'string' },
} as const;

export const CLIENT_OPTION_HELP: Array<[string, string]> = [
  ['--name N', 'the name people see on the consent page'],
  ['--redirect-uri U', 'where sign-ins return (repeatable; exact match; https, or http for localhost)'],
  ['--post-logout-redirect-uri U', 'where logouts may return (repeatable; none removes them on update)'],
  ['--auth-method M', `how it authenticates at the token endpoint: ${AUTH_METHODS.join(', ')} (default client_secret_basic)`],
  ['--public', 'the same as --auth-method none: no secret (a single-page or native app; PKCE)'],
  ['--jwks JSON|FILE, --jwks-uri U', "private_key_jwt: the app's public keys, as a JSON key set (or a file holding one), or their URL"],
  ['--grant-type G', 'authorization_code, refresh_token or client_credentials (repeatable; default authorization_code)'],
  ['--scope "openid profile email"', 'the scopes it may ask for'],
  ['--logo-uri U, --client-uri U', 'logo and home page shown on the consent page (https; none removes one on update)'],
  ['--policy-uri U, --tos-uri U', 'privacy policy and terms (https)'],
  ['--api URL=SCOPE[,SCOPE...]', 'an API of IDP_RESOURCES it may get tokens for, with its scopes (repeatable; --api none removes them)'],
  ['--backchannel-logout-uri U', 'where a logout token is sent when the session ends (Back-Channel Logout; none removes it)'],
  ['--backchannel-logout-session-required', 'the logout token carries sid (--no-... turns it off)'],
  ['--require-par', 'sign-ins must start with a pushed authorization request (RFC 9126; --no-require-par turns it off)'],
  ['--first-party', 'your own app: no consent page, a refresh token without prompt=consent (--no-first-party turns it off)'],
  ['--mfa required|optional', 'required: every sign-in to it needs a second factor (default optional: as IDP_MFA and the request say)'],
];

type Values = {
  [K in keyof typeof CLIENT_OPTIONS]?: (typeof CLIENT_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof CLIENT_OPTIONS)[K] extends { type: 'boolean' }
      ? boolean
      : string;
};

/** "none" (or "") removes an optional URL on update; toMetadata reads "" as absent. */
const removable = (value: string | undefined) => (value === 'none' ? '' : value);

/** The spec fields the options give (undefined for those not given, so update keeps them). */
export async function specFromOptions(values: Values): Promise<Partial<ClientSpec>> {
  if (values.public && values['auth-method'] !== undefined && values['auth-method'] !== 'none')
    throw usageError('--public means --auth-method none: give one of them');
  const method = values.public ? 'none' : values['auth-method'];
  if (method !== undefined && !(AUTH_METHODS as readonly string[]).includes(method))
    throw usageError(`--auth-method must be one of ${AUTH_METHODS.join(', ')}, got "${method}"`);
  const logoutUris = values['post-logout-redirect-uri'];
  return {
    name: values.name,
    redirectUris: values['redirect-uri'],
    postLogoutRedirectUris: logoutUris?.length === 1 && logoutUris[0] === 'none' ? [] : logoutUris,
    authMethod: method as AuthMethod | undefined,
    jwks: values.jwks === undefined ? undefined : await readJwks(values.jwks),
    jwksUri: removable(values['jwks-uri']),
    grantTypes: values['grant-type'],
    scope: values.scope,
    logoUri: removable(values['logo-uri']),
    clientUri: removable(values['client-uri']),
    policyUri: removable(values['policy-uri']),
    tosUri: removable(values['tos-uri']),
    resourceScopes: parseApis(values.api),
    backchannelLogoutUri: removable(values['backchannel-logout-uri']),
    backchannelLogoutSessionRequired: values['backchannel-logout-session-required'],
    requirePushedAuthorizationRequests: values['require-par'],
    firstParty: values['first-party'],
    requireMfa: parseMfa(values.mfa),
  };
}

/** --mfa required|optional as require_mfa; absent leaves it as it is (on update). */
function parseMfa(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'required' && value !== 'optional') throw usageError(`--mfa takes required or optional, got "${value}"`);
  return value === 'required';
}

/** --jwks: a JSON key set written out, or the path of a file holding one. */
async function readJwks(value: string): Promise<PublicJwks> {
  let parsed: unknown;
  if (value.trimStart().startsWith('{')) {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw usageError('--jwks is not valid JSON: give a key set {"keys": [...]} or the path of a file holding one');
    }
  } else {
    const read = await readDocument(value);
    if (!read.ok) throw usageError(`--jwks: ${read.problem}`);
    parsed = read.value;
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { keys?: unknown }).keys))
    throw usageError('--jwks must be a JSON key set: {"keys": [...]}');
  return parsed as PublicJwks;
}

/** --api URL=SCOPE,SCOPE (repeatable) as resource_scopes; "none" alone clears them. */
function parseApis(values: string[] | undefined): ClientSpec['resourceScopes'] {
  if (values === undefined) return undefined;
  if (values.length === 1 && values[0] === 'none') return [];
  const apis: NonNullable<ClientSpec['resourceScopes']> = [];
  for (const value of values) {
    const at = value.lastIndexOf('=');
    const indicator = at > 0 ? value.slice(0, at) : '';
    const scopes = value
      .slice(at + 1)
      .split(/[,\s]+/)
      .filter(Boolean);
    if (!indicator || scopes.length === 0) throw usageError(`--api needs URL=SCOPE[,SCOPE...], got "${value}"`);
    if (apis.some((api) => api.indicator === indicator)) throw usageError(`--api names ${indicator} twice`);
    apis.push({ indicator, scopes });
  }
  return apis;
}

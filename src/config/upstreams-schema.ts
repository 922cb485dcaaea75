import { z } from 'zod';
import { hostAndPort, isLoopbackName, isSpecialUseAddress } from '../http/outbound-fetch.ts';
import { localizedText, pathOrHttpsUrl } from './shared-schemas.ts';

/**
 * IDP_UPSTREAMS: the identity providers people may sign in through ("Continue with ..."). OpenID
 * Connect providers are described by their issuer (the rest comes from discovery); plain OAuth 2.0
 * providers such as GitHub by their endpoints and a mapping of their user fields to our claims.
 * Client secrets never appear here: `clientSecretEnv` names the environment variable holding one.
 */

/** Loopback hosts, where plain http is acceptable (the traffic never leaves the machine; RFC 8252 §8.3). */
function isLoopbackHost(hostname: string): boolean {
  return isLoopbackName(hostname) || (isSpecialUseAddress(hostname) && /^(127\.|\[::1\]$)/.test(hostname));
}

/** An endpoint of the upstream: https, or http on loopback (a provider on this machine, as in tests). */
const endpoint = z.url({ protocol: /^https?$/, error: 'must be an absolute https:// URL' }).refine((value) => {
  const url = new URL(value);
  return !url.hash && (url.protocol === 'https:' || isLoopbackHost(url.hostname));
}, 'must be an https:// URL without a fragment (plain http only on loopback)');

/** Our redirect URI carries the id (<ISSUER>/upstream/<id>/callback), so it is kept URL-safe and short. */
const upstreamId = z
  .string({ error: 'each upstream needs an "id"' })
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1 to 32 lowercase letters, digits or hyphens (it is part of the redirect URI)');

/** A scope token (RFC 6749 §3.3). */
const scope = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scopes are words without spaces or quotes');

/** Where a claim is found in the upstream's user document: a field name, or a dotted path into nested objects. */
const fieldPath = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be a field name such as "login" or a path such as "user.id"');

/**
 * Fields a person can change, or an upstream can give to someone else later (a renamed GitHub login
 * is free for the next one to take): a link keyed by one would let that next person in.
 * OpenID Connect Core §5.7: only `sub` (with the issuer) identifies the person.
 */
const CHANGEABLE_FIELDS = new Set(['login', 'username', 'preferred_username', 'email', 'mail', 'name', 'display_name', 'nickname', 'upn']);

const common = {
  id: upstreamId,
  /** What the button says after "Continue with". */
  name: localizedText,
  /** An image beside the name on the button. */
  icon: pathOrHttpsUrl('github.svg').optional(),
  clientId: z.string({ error: 'each upstream needs the "clientId" it was registered with' }).min(1).max(512),
  /** The environment variable that holds the client secret (the value itself never goes in a file here). */
  clientSecretEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be the name of an environment variable, such as GITHUB_CLIENT_SECRET')
    .optional(),
  clientSecret: z
    .never({ error: 'secrets come only from the environment: put the secret in a variable and name it in "clientSecretEnv"' })
    .optional(),
  /** How we authenticate at its token endpoint; with a secret, client_secret_basic unless said otherwise. */
  tokenEndpointAuthMethod: z
    .enum(['client_secret_basic', 'client_secret_post', 'none'], { error: 'must be client_secret_basic, client_secret_post or none' })
    .optional(),
  scopes: z.array(scope).max(20).optional(),
  /** Whether an email this upstream says is verified counts as verified here (the operator vouches for it). */
  trustEmail: z.boolean({ error: 'must be true or false' }).default(false),
};

const openIdUpstream = z.strictObject({
  type: z.literal('oidc'),
  ...common,
  /** Discovery happens at <issuer>/.well-known/openid-configuration, and the issuer must match exactly. */
  issuer: endpoint,
});

const oauth2Upstream = z.strictObject({
  type: z.literal('oauth2'),
  ...common,
  /** With the subject, what a link is keyed by; default: the origin of the authorization endpoint. */
  issuer: endpoint.optional(),
  authorizationEndpoint: endpoint,
  tokenEndpoint: endpoint,
  /** The user document (GitHub: https://api.github.com/user), read with the access token. */
  userinfoEndpoint: endpoint,
  /** A GitHub-shaped list of addresses ([{ email, primary, verified }]); the primary one is used. */
  emailsEndpoint: endpoint.optional(),
  /** Where our claims are in the user document; `sub` must be stable and unique at the upstream. */
  claims: z
    .strictObject({
      sub: fieldPath,
      preferred_username: fieldPath.optional(),
      name: fieldPath.optional(),
      email: fieldPath.optional(),
      email_verified: fieldPath.optional(),
    })
    .default({ sub: 'sub', preferred_username: 'preferred_username', name: 'name', email: 'email', email_verified: 'email_verified' }),
});

const upstream = z.discriminatedUnion('type', [openIdUpstream, oauth2Upstream], {
  error: 'each upstream needs "type": "oidc" (an OpenID Connect provider) or "oauth2" (plain OAuth 2.0, such as GitHub)',
});

export const upstreamsSchema = z
  .array(upstream)
  .max(20, 'at most 20 upstreams')
  .superRefine((upstreams, ctx) => {
    const seenIds = new Set<string>();
    const seenIssuers = new Set<string>();
    upstreams.forEach((entry, index) => {
      if (seenIds.has(entry.id))
        ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `"${entry.id}" is used twice; ids must be unique` });
      seenIds.add(entry.id);
      const issuer = issuerOf(entry);
      if (seenIssuers.has(issuer)) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'issuer'],
          message: `${issuer} is configured twice; links are keyed by issuer, so each may appear once`,
        });
      }
      seenIssuers.add(issuer);
      const method = entry.tokenEndpointAuthMethod;
      if (method && method !== 'none' && !entry.clientSecretEnv) {
        ctx.addIssue({ code: 'custom', path: [index, 'clientSecretEnv'], message: `${method} needs a secret: name its variable here` });
      }
      if (entry.type === 'oauth2' && CHANGEABLE_FIELDS.has(entry.claims.sub.split('.').at(-1)?.toLowerCase() ?? '')) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'claims', 'sub'],
          message: `"${entry.claims.sub}" can change or pass to someone else at the upstream; map a stable id that never does (GitHub: "id")`,
        });
      }
      if (method === 'none' && entry.clientSecretEnv) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'tokenEndpointAuthMethod'],
          message: 'is none, yet a secret is named in clientSecretEnv',
        });
      }
    });
  });

export type UpstreamSettings = z.output<typeof upstream>;
export type OpenIdUpstreamSettings = z.output<typeof openIdUpstream>;
export type OAuth2UpstreamSettings = z.output<typeof oauth2Upstream>;

/** Each kind of upstream with its secret read from the environment (distributed over the union, so `type` still tells them apart). */
type WithSecret<T> = T extends unknown ? Omit<T, 'clientSecret'> & { clientSecret?: string | undefined } : never;
export type Upstream = WithSecret<UpstreamSettings>;
export type OpenIdUpstream = WithSecret<OpenIdUpstreamSettings>;
export type OAuth2Upstream = WithSecret<OAuth2UpstreamSettings>;

/** What links to this upstream are keyed by (with the subject). */
export function issuerOf(entry: Pick<UpstreamSettings, 'type' | 'issuer'> & { authorizationEndpoint?: string }): string {
  if (entry.issuer) return entry.issuer;
  return new URL(entry.authorizationEndpoint ?? '').origin;
}

/** Every URL the server will call for this upstream. */
export function endpointsOf(entry: UpstreamSettings): Array<{ key: string; url: string }> {
  if (entry.type === 'oidc') return [{ key: 'issuer', url: entry.issuer }];
  return (['authorizationEndpoint', 'tokenEndpoint', 'userinfoEndpoint', 'emailsEndpoint'] as const).flatMap((key) => {
    const url = entry[key];
    return url ? [{ key, url }] : [];
  });
}

/**
 * Endpoints on loopback or private addresses are refused at run time unless IDP_OUTBOUND_PRIVATE_HOSTS
 * lists them; one written as such an address is refused here already, where the operator sees it.
 */
export function privateEndpointProblems(upstreams: readonly UpstreamSettings[], allowedPrivateHosts: readonly string[]) {
  const allowed = new Set(allowedPrivateHosts.map((entry) => entry.toLowerCase()));
  return upstreams.flatMap((entry, index) =>
    endpointsOf(entry)
      .filter(({ key, url }) => {
        // The authorization endpoint is visited by the person's browser, never by this server.
        if (key === 'authorizationEndpoint') return false;
        const parsed = new URL(url);
        const local = isSpecialUseAddress(parsed.hostname) || isLoopbackName(parsed.hostname);
        return local && !allowed.has(hostAndPort(parsed).toLowerCase());
      })
      .map(({ key, url }) => ({
        path: [index, key],
        message: `${hostAndPort(new URL(url))} is a loopback or private address: add it to IDP_OUTBOUND_PRIVATE_HOSTS to let this server call it`,
      })),
  );
}

/**
 * Reads each upstream's secret from the variable it names (or from the file named by `<NAME>_FILE`,
 * like every secret). Returns the upstreams with their secrets, or one line per missing one.
 */
export function resolveUpstreamSecrets(
  upstreams: readonly UpstreamSettings[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): { ok: true; upstreams: Upstream[] } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const resolved = upstreams.map(({ clientSecret: _never, ...entry }, index) => {
    const name = entry.clientSecretEnv;
    if (!name) return entry;
    const direct = env[name]?.trim();
    if (direct) return { ...entry, clientSecret: direct };
    const file = env[`${name}_FILE`]?.trim();
    if (file) {
      try {
        const text = readFile(file).trim();
        if (text) return { ...entry, clientSecret: text };
      } catch {
        errors.push(`upstreams.${index}.clientSecretEnv (${name}_FILE): cannot read ${file}`);
        return entry;
      }
    }
    errors.push(`upstreams.${index}.clientSecretEnv (IDP_UPSTREAMS): ${name} is not set; it must hold the client secret of "${entry.id}"`);
    return entry;
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, upstreams: resolved };
}

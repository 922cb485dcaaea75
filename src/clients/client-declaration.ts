import { z } from 'zod';
import { unknownFieldError } from '../zod-problems.ts';
import type { ApplyEntry } from './client-admin.ts';
import { AUTH_METHODS, type AuthMethod, usesSecret } from './client-spec.ts';

/** Shortest secret a file may give: 256 bits as base64url is 43; client_secret_jwt's HS256 key needs 32 bytes. */
export const MIN_SECRET_LENGTH = 32;

const urls = z.array(z.string({ error: 'each entry is a URL' }), { error: 'must be a list of URLs' });
const optionalText = z.string({ error: 'must be text' }).optional();
const flag = z.boolean({ error: 'must be true or false' }).optional();

/**
 * One client as a file declares it: the seed file (IDP_SEED_FILE) and `npm run clients -- apply`
 * read the same fields, named as in OpenID Connect Dynamic Client Registration (client metadata)
 * where one exists. Unknown fields are refused, so a typo (`redirect_uri`) is not silently ignored.
 */
export const clientDeclarationSchema = z
  .strictObject(
    {
      client_id: z
        .string({ error: 'every client needs a client_id' })
        .regex(/^[A-Za-z0-9._-]{3,64}$/, 'must be 3 to 64 letters, digits, dot, underscore or hyphen'),
      client_name: optionalText,
      /** The same as client_name (the apply file's older spelling). */
      name: optionalText,
      redirect_uris: urls.default([]),
      post_logout_redirect_uris: urls.default([]),
      token_endpoint_auth_method: z.enum(AUTH_METHODS, { error: `must be one of ${AUTH_METHODS.join(', ')}` }).optional(),
      /** The same as token_endpoint_auth_method: none (the apply file's older spelling). */
      public: flag,
      grant_types: z.array(z.string(), { error: 'must be a list of grant types' }).default(['authorization_code']),
      scope: optionalText,
      logo_uri: optionalText,
      client_uri: optionalText,
      policy_uri: optionalText,
      tos_uri: optionalText,
      /** The APIs (IDP_RESOURCES) it may get tokens for, and their scopes. */
      resource_scopes: z
        .array(z.strictObject({ indicator: z.string(), scopes: z.array(z.string()) }, { error: unknownFieldError }))
        .optional(),
      jwks: z
        .object(
          { keys: z.array(z.record(z.string(), z.unknown())).min(1, 'holds at least one key') },
          { error: 'must be a key set: {keys: [...]}' },
        )
        .optional(),
      jwks_uri: optionalText,
      backchannel_logout_uri: optionalText,
      backchannel_logout_session_required: flag,
      require_pushed_authorization_requests: flag,
      first_party: flag,
      /** Every sign-in to this client needs a second factor. */
      require_mfa: flag,
      disabled: z.boolean({ error: 'must be true or false' }).default(false),
      /** A fixed secret (tests, development); the environment variable of secret_env is the way for anything else. */
      client_secret: z
        .string({ error: 'must be text' })
        .min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`)
        .optional(),
      /** Name of an environment variable holding the secret. */
      secret_env: optionalText,
    },
    { error: unknownFieldError },
  )
  .superRefine((client, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (client.name !== undefined && client.client_name !== undefined) problem('name', 'give client_name or name, not both');
    if (client.public !== undefined && client.token_endpoint_auth_method !== undefined)
      problem('public', 'give token_endpoint_auth_method or public, not both');
    if (client.client_secret !== undefined && client.secret_env !== undefined)
      problem('client_secret', 'give client_secret or secret_env, not both');
    const method = authMethodOfDeclaration(client);
    if (!usesSecret(method) && (client.client_secret !== undefined || client.secret_env !== undefined))
      problem(client.client_secret !== undefined ? 'client_secret' : 'secret_env', `a client using ${method} has no secret`);
  });

export type ClientDeclaration = z.output<typeof clientDeclarationSchema>;

function authMethodOfDeclaration(client: Pick<ClientDeclaration, 'public' | 'token_endpoint_auth_method'>): AuthMethod {
  return client.token_endpoint_auth_method ?? (client.public ? 'none' : 'client_secret_basic');
}

/**
 * What the client admin applies for a declaration. The secret of `secret_env` is read from `env`;
 * a missing or short one is an error naming the field (`path` prefixes it, e.g. `clients[2]`).
 */
export function toApplyEntry(
  client: ClientDeclaration,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
): { ok: true; entry: ApplyEntry } | { ok: false; problem: string } {
  let secret = client.client_secret;
  if (client.secret_env !== undefined) {
    secret = env[client.secret_env];
    if (!secret) return { ok: false, problem: `${path}.secret_env: the variable ${client.secret_env} is not set` };
    if (secret.length < MIN_SECRET_LENGTH)
      return {
        ok: false,
        problem: `${path}.secret_env: the secret in ${client.secret_env} must be at least ${MIN_SECRET_LENGTH} characters`,
      };
  }
  return {
    ok: true,
    entry: {
      clientId: client.client_id,
      disabled: client.disabled,
      secret,
      spec: {
        name: client.client_name ?? client.name ?? client.client_id,
        redirectUris: client.redirect_uris,
        postLogoutRedirectUris: client.post_logout_redirect_uris,
        authMethod: authMethodOfDeclaration(client),
        grantTypes: client.grant_types,
        scope: client.scope,
        logoUri: client.logo_uri,
        clientUri: client.client_uri,
        policyUri: client.policy_uri,
        tosUri: client.tos_uri,
        resourceScopes: client.resource_scopes,
        jwks: client.jwks,
        jwksUri: client.jwks_uri,
        backchannelLogoutUri: client.backchannel_logout_uri,
        backchannelLogoutSessionRequired: client.backchannel_logout_session_required,
        requirePushedAuthorizationRequests: client.require_pushed_authorization_requests,
        firstParty: client.first_party,
        requireMfa: client.require_mfa,
      },
    },
  };
}

import { z } from 'zod';
import type { ClaimValue } from '../storage/ports.ts';
import { recordError } from '../zod-problems.ts';

/**
 * What a user's groups and extra claims may hold. One set of rules for the users tool, the seed
 * file and the configuration that ties claims to scopes, so a value one accepts the others accept.
 */

export const MAX_GROUPS = 100;
export const MAX_CLAIMS = 50;
/** A claim travels in every ID token the app asks for with its scope: keep each one small. */
export const MAX_CLAIM_BYTES = 4096;

/**
 * Claims the server itself decides, which an extra claim must never replace: the registered JWT
 * claims (RFC 7519 §4.1), the ID token's own (OpenID Connect Core §2), the standard claims this
 * server fills from the account (Core §5.1), `groups`, and names with a meaning in tokens
 * (RFC 8693 `act`/`may_act`, RFC 7800 `cnf`, RFC 9068 `client_id`/`scope`, aggregated claims).
 */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'azp',
  'at_hash',
  'c_hash',
  's_hash',
  'sid',
  // Which upstream identity provider a sign-in came through (src/oidc/find-account.ts).
  'idp',
  'name',
  'preferred_username',
  'updated_at',
  'email',
  'email_verified',
  'groups',
  'act',
  'may_act',
  'cnf',
  'client_id',
  'scope',
  'events',
  '_claim_names',
  '_claim_sources',
]);

/** A group name: 1 to 100 characters, no control characters, no space at either end. */
export const groupNameSchema = z
  .string({ error: 'a group is a name (text)' })
  .min(1, 'a group name cannot be empty')
  .refine((name) => [...name].length <= 100, 'a group name is at most 100 characters')
  .refine((name) => !/\p{Cc}/u.test(name), 'a group name cannot hold control characters')
  .refine((name) => name.trim() === name, 'a group name cannot start or end with a space');

export const groupListSchema = z
  .array(groupNameSchema)
  .max(MAX_GROUPS, `a user is in at most ${MAX_GROUPS} groups`)
  .refine((groups) => new Set(groups).size === groups.length, 'a group is named twice');

/**
 * A claim name: letters, digits and `_ . : / -`, starting with a letter, digit or underscore, at
 * most 100 characters; a URL such as `https://example.com/roles` (a collision-resistant name, RFC
 * 7519 §4.2) fits. Never one of the RESERVED_CLAIMS.
 */
export const claimNameSchema = z
  .string({ error: 'a claim name is text' })
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,99}$/, 'a claim name is 1 to 100 letters, digits or _ . : / - (starting with a letter or digit)')
  .refine((name) => !RESERVED_CLAIMS.has(name), {
    error: (issue) => `"${String(issue.input)}" is a claim the server sets itself; choose another name`,
  });

export const claimValueSchema: z.ZodType<ClaimValue> = z.lazy(() =>
  z.union(
    [
      z.string(),
      z.number().refine(Number.isFinite, 'a claim number must be finite'),
      z.boolean(),
      z.array(claimValueSchema),
      z.record(z.string(), claimValueSchema),
    ],
    { error: 'a claim value is text, a number, true/false, a list or an object (null is not a value: remove the claim instead)' },
  ),
);

export const claimsSchema = z
  .record(claimNameSchema, claimValueSchema, {
    error: recordError('claims are an object of names and values, e.g. {"department": "research"}'),
  })
  .refine((claims) => Object.keys(claims).length <= MAX_CLAIMS, `a user has at most ${MAX_CLAIMS} extra claims`)
  .superRefine((claims, ctx) => {
    for (const [name, value] of Object.entries(claims)) {
      if (Buffer.byteLength(JSON.stringify(value)) > MAX_CLAIM_BYTES)
        ctx.addIssue({ code: 'custom', path: [name], message: `is larger than ${MAX_CLAIM_BYTES} bytes as JSON` });
    }
  });

/**
 * Which scope releases which extra claim (IDP_CLAIM_SCOPES, the seed file's `claim_scopes`): a scope
 * word other than openid and offline_access, each naming claims, each claim under one scope only.
 */
export const claimScopesSchema = z
  .record(
    z
      .string()
      .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scopes are words without spaces or quotes')
      .refine((scope) => scope !== 'openid' && scope !== 'offline_access', {
        error: (issue) => `the scope "${String(issue.input)}" cannot release extra claims; use profile, groups or a scope of your own`,
      }),
    z.array(claimNameSchema).min(1, 'each scope names at least one claim'),
    { error: recordError('must be an object such as {"profile": ["department"], "org": ["employee_id"]}') },
  )
  .superRefine((scopes, ctx) => {
    const seen = new Map<string, string>();
    for (const [scope, claims] of Object.entries(scopes)) {
      for (const claim of claims) {
        const other = seen.get(claim);
        if (other !== undefined)
          ctx.addIssue({ code: 'custom', path: [scope], message: `the claim "${claim}" is already released by the scope "${other}"` });
        seen.set(claim, scope);
      }
    }
  });

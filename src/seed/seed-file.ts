import { z } from 'zod';
import { type ApplyEntry, definedOnly } from '../clients/client-admin.ts';
import { clientDeclarationSchema, MIN_SECRET_LENGTH, toApplyEntry } from '../clients/client-declaration.ts';
import { readDocument } from '../read-document.ts';
import { claimScopesSchema, claimsSchema, groupListSchema } from '../users/attributes.ts';
import { normalizeEmail, parseFullName, usernameKey } from '../users/normalize.ts';
import { USERNAME_PATTERN } from '../users/registration-form.ts';
import type { SeedUser } from '../users/seed-users.ts';
import { problemLines, unknownFieldError } from '../zod-problems.ts';

/** A PHC string of argon2 (id, i or d), as `npm run users` and this server store them. */
const ARGON2_HASH = /^\$argon2(id|i|d)\$v=\d+\$[mtp]=\d+(,[mtp]=\d+){2}\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

const userSchema = z
  .strictObject(
    {
      username: z
        .string({ error: 'every user needs a username' })
        .regex(USERNAME_PATTERN, 'must be 3 to 32 letters, digits, dot, underscore or hyphen'),
      email: z
        .string({ error: 'every user needs an email' })
        .transform(normalizeEmail)
        .pipe(z.email('must be an email address such as alice@example.com').max(254, 'must be at most 254 characters')),
      verified: z.boolean({ error: 'must be true or false' }).default(false),
      name: z
        .string({ error: 'must be text' })
        .transform((raw, ctx) => {
          const parsed = parseFullName(raw);
          if (parsed.ok) return parsed.name;
          ctx.addIssue({ code: 'custom', message: 'must be at most 100 characters, without control characters' });
          return z.NEVER;
        })
        .optional(),
      /** Checked by the password policy when the file is applied. */
      password: z.string({ error: 'must be text' }).min(1, 'cannot be empty').optional(),
      password_hash: z
        .string({ error: 'must be text' })
        .regex(ARGON2_HASH, 'must be an argon2 hash: $argon2id$v=19$m=...,p=...,t=...$salt$hash')
        .optional(),
      groups: groupListSchema.default([]),
      claims: claimsSchema.default({}),
    },
    { error: unknownFieldError },
  )
  // `when`: checked even when another field of the user is wrong, so every problem shows in one pass.
  .refine((user) => (user.password === undefined) !== (user.password_hash === undefined), {
    path: ['password'],
    message: 'give a password or a password_hash (one of them)',
    when: (payload) => typeof payload.value === 'object' && payload.value !== null,
  });

const seedSchema = z
  .strictObject(
    {
      /** Which scope releases which extra claim, as IDP_CLAIM_SCOPES (both are used). */
      claim_scopes: claimScopesSchema.default({}),
      /** The embedded mode's demo client: a fixed secret, so an app wired to it survives a restart. */
      demo_client: z
        .strictObject(
          { client_secret: z.string({ error: 'must be text' }).min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`) },
          { error: unknownFieldError },
        )
        .optional(),
      clients: z.array(clientDeclarationSchema, { error: 'must be a list of clients' }).default([]),
      users: z.array(userSchema, { error: 'must be a list of users' }).default([]),
    },
    { error: unknownFieldError },
  )
  .superRefine((seed, ctx) => {
    const once = (values: string[], path: string, field: string, what: string) => {
      const seen = new Map<string, number>();
      for (const [index, value] of values.entries()) {
        const first = seen.get(value);
        if (first !== undefined)
          ctx.addIssue({ code: 'custom', path: [path, index, field], message: `${what} "${value}" is already used by ${path}[${first}]` });
        else seen.set(value, index);
      }
    };
    once(
      seed.clients.map((client) => client.client_id),
      'clients',
      'client_id',
      'the client_id',
    );
    once(
      seed.users.map((user) => usernameKey(user.username)),
      'users',
      'username',
      'the username',
    );
    once(
      seed.users.map((user) => user.email),
      'users',
      'email',
      'the email',
    );
  });

export interface Seed {
  /** The file it came from, for messages. */
  path: string;
  claimScopes: Record<string, string[]>;
  demoClientSecret: string | undefined;
  clients: ApplyEntry[];
  users: SeedUser[];
  /** Where the file holds a secret as it is (`clients[0].client_secret`, `users[1].password`), not a variable's name or a hash. */
  plainSecrets: string[];
}

export type SeedResult = { ok: true; seed: Seed } | { ok: false; problems: string[] };

/**
 * Reads and checks the seed file (IDP_SEED_FILE, YAML or JSON): every problem is one line naming
 * its path in the file (`users[1].email: must be an email address ...`), so all of them can be
 * fixed at once. `env` holds the variables a client's `secret_env` may name.
 */
export async function loadSeedFile(path: string, env: Readonly<Record<string, string | undefined>>): Promise<SeedResult> {
  const read = await readDocument(path);
  if (!read.ok) return { ok: false, problems: [read.problem] };
  const parsed = seedSchema.safeParse(read.value ?? {});
  if (!parsed.success) return { ok: false, problems: problemLines(parsed.error) };
  const problems: string[] = [];
  const clients: ApplyEntry[] = [];
  for (const [index, client] of parsed.data.clients.entries()) {
    const converted = toApplyEntry(client, env, `clients[${index}]`);
    if (converted.ok) clients.push(converted.entry);
    else problems.push(converted.problem);
  }
  if (problems.length > 0) return { ok: false, problems };
  const { claim_scopes: claimScopes, demo_client: demoClient, users } = parsed.data;
  const plainSecrets = [
    ...(demoClient ? ['demo_client.client_secret'] : []),
    ...parsed.data.clients.flatMap((client, index) => (client.client_secret !== undefined ? [`clients[${index}].client_secret`] : [])),
    ...users.flatMap((user, index) => (user.password !== undefined ? [`users[${index}].password`] : [])),
  ];
  return {
    ok: true,
    seed: {
      path,
      claimScopes,
      demoClientSecret: demoClient?.client_secret,
      clients,
      users: users.map((user) => ({
        ...definedOnly({ name: user.name, password: user.password, passwordHash: user.password_hash }),
        username: user.username,
        email: user.email,
        verified: user.verified,
        groups: user.groups,
        claims: user.claims,
      })),
      plainSecrets,
    },
  };
}

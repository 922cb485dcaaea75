/**
 * Register and manage the apps that sign people in here: npm run clients -- <command> [options].
 * Its commands, options and examples are written once, in HELP below (npm run clients -- --help).
 */
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { z } from 'zod';
import { type ApplyEntry, type ClientSpec, type ClientView, definedOnly } from '../src/clients/client-admin.ts';
import { redisTopology } from '../src/config/redis-topology.ts';
import { AppError } from '../src/errors.ts';
import { isCommand, openTools, parseCommandLine, print, runCli, type ToolHelp, table, usageError, usageLine } from './lib/cli.ts';

const SPEC_OPTIONS: Array<[string, string]> = [
  ['--name N', 'the name people see on the consent page'],
  ['--redirect-uri U', 'where sign-ins return (repeatable; exact match; https, or http for localhost)'],
  ['--post-logout-redirect-uri U', 'where logouts may return (repeatable)'],
  ['--public', 'no secret (a single-page or native app; PKCE)'],
  ['--grant-type G', 'authorization_code, refresh_token or client_credentials (repeatable; default authorization_code)'],
  ['--scope "openid profile email"', 'the scopes it may ask for'],
  ['--logo-uri U, --client-uri U', 'logo and home page shown on the consent page (https)'],
  ['--policy-uri U, --tos-uri U', 'privacy policy and terms (https)'],
  [
    '--api URL=SCOPE[,SCOPE...]',
    'an API of IDP_RESOURCES it may get tokens for, with its scopes (repeatable; --api none on update removes them)',
  ],
  ['--mfa required|optional', 'required: every sign-in to it needs a second factor (default optional: as IDP_MFA and the request say)'],
];
const HELP: ToolHelp = {
  usage: 'npm run clients -- <command> [options] [--json]',
  summary:
    'Registers and manages the apps that sign people in here, in the MongoDB the server uses; running servers see each change at once when REDIS_URL is set. Needs MONGODB_URI, and IDP_CLIENT_SECRET_KEYS for commands that write secrets. Secrets are printed once. Every command takes --json.',
  commands: {
    create: {
      usage: 'npm run clients -- create --name N --redirect-uri U [options]',
      summary: 'Registers an app and prints its id and (for a confidential app) its secret, once.',
      options: [...SPEC_OPTIONS, ['--client-id ID', 'choose the id (default: the name and random characters)']],
      example:
        'npm run clients -- create --name "Example Shop" --redirect-uri https://shop.example.com/callback --grant-type authorization_code --grant-type refresh_token',
    },
    list: { usage: 'npm run clients -- list', summary: 'Lists the registered apps.', example: 'npm run clients -- list --json' },
    show: {
      usage: 'npm run clients -- show <id>',
      summary: "Shows one app's settings (never its secret).",
      example: 'npm run clients -- show example-shop-1a2b3c4d5e6f',
    },
    update: {
      usage: "npm run clients -- update <id> [create's options]",
      summary: 'Replaces the settings given and keeps the others.',
      options: SPEC_OPTIONS,
      example: 'npm run clients -- update example-shop-1a2b3c4d5e6f --logo-uri https://shop.example.com/logo.png',
    },
    'rotate-secret': {
      usage: 'npm run clients -- rotate-secret <id>',
      summary: 'Prints a new secret, once; the old one stops working at once.',
      example: 'npm run clients -- rotate-secret example-shop-1a2b3c4d5e6f',
    },
    disable: {
      usage: 'npm run clients -- disable <id>',
      summary: 'A disabled app gets invalid_client.',
      example: 'npm run clients -- disable example-shop-1a2b3c4d5e6f',
    },
    enable: {
      usage: 'npm run clients -- enable <id>',
      summary: 'Enables a disabled app again.',
      example: 'npm run clients -- enable example-shop-1a2b3c4d5e6f',
    },
    delete: {
      usage: 'npm run clients -- delete <id> --yes',
      summary: 'Removes the app for good.',
      options: [['--yes', 'confirm (required)']],
      example: 'npm run clients -- delete example-shop-1a2b3c4d5e6f --yes',
    },
    apply: {
      usage: 'npm run clients -- apply --file clients.yaml [--dry-run]',
      summary:
        'Declares apps as code (JSON or YAML): creates, changes or leaves each one alone; a second run changes nothing. Apps not in the file are left alone.',
      options: [
        ['--file F', 'the file (required)'],
        ['--dry-run', 'say what would change and write nothing'],
      ],
      example: 'npm run clients -- apply --file clients.yaml --dry-run',
    },
  },
  example: 'npm run clients -- list',
};
const USAGE = usageLine(HELP);

const fileSchema = z.object({
  clients: z.array(
    z
      .object({
        client_id: z.string(),
        name: z.string(),
        redirect_uris: z.array(z.string()).default([]),
        post_logout_redirect_uris: z.array(z.string()).default([]),
        public: z.boolean().default(false),
        grant_types: z.array(z.string()).default(['authorization_code']),
        scope: z.string().optional(),
        logo_uri: z.string().optional(),
        client_uri: z.string().optional(),
        policy_uri: z.string().optional(),
        tos_uri: z.string().optional(),
        /** The APIs (IDP_RESOURCES indicators) this client may get tokens for, each with its scopes. */
        resource_scopes: z.array(z.object({ indicator: z.string(), scopes: z.array(z.string()) }).strict()).optional(),
        /** Every sign-in to this client needs a second factor. */
        require_mfa: z.boolean().optional(),
        disabled: z.boolean().default(false),
        /** Name of an environment variable holding the secret; otherwise one is generated. */
        secret_env: z.string().optional(),
      })
      .strict(),
  ),
});

const row = (client: ClientView) => ({
  client_id: client.clientId,
  name: String(client.metadata.client_name ?? ''),
  type: client.metadata.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
  grants: ((client.metadata.grant_types as string[] | undefined) ?? []).join(','),
  status: client.disabled ? 'disabled' : 'enabled',
});
const describe = (client: ClientView) =>
  table(
    [
      ...Object.entries(row(client)).map(([field, value]) => ({ field, value })),
      ...Object.entries(client.metadata)
        .filter(([key]) => !['client_name', 'grant_types'].includes(key))
        .map(([field, value]) => ({ field, value: showValue(value) })),
      { field: 'created', value: client.createdAt },
      { field: 'updated', value: client.updatedAt },
    ],
    ['field', 'value'],
  );

/** A metadata value on one line: lists joined by spaces, resource_scopes as "API: scopes; API: scopes". */
function showValue(value: unknown): string {
  if (!Array.isArray(value)) return String(value);
  return value
    .map((item: unknown) => {
      const { indicator, scopes } = (typeof item === 'object' && item !== null ? item : {}) as { indicator?: unknown; scopes?: unknown };
      return indicator === undefined ? String(item) : `${String(indicator)}: ${Array.isArray(scopes) ? scopes.join(' ') : ''}`;
    })
    .join(value.some((item) => typeof item === 'object') ? '; ' : ' ');
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

/** --mfa required|optional as require_mfa; absent leaves it as it is (on update). */
function parseMfa(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'required' && value !== 'optional') throw usageError(`--mfa takes required or optional, got "${value}"`);
  return value === 'required';
}

await runCli('clients', async () => {
  const { values, positionals } = parseCommandLine(
    {
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      public: { type: 'boolean' },
      'grant-type': { type: 'string', multiple: true },
      scope: { type: 'string' },
      'logo-uri': { type: 'string' },
      'client-uri': { type: 'string' },
      'policy-uri': { type: 'string' },
      'tos-uri': { type: 'string' },
      'client-id': { type: 'string' },
      api: { type: 'string', multiple: true },
      mfa: { type: 'string' },
      file: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
    },
    HELP,
  );
  const [command, clientId, ...extra] = positionals;
  const withId = ['show', 'update', 'rotate-secret', 'disable', 'enable', 'delete'];
  if (!command) throw usageError(USAGE);
  if (!isCommand(HELP, command)) throw usageError(`unknown command "${command}"; ${USAGE}`);
  if (withId.includes(command) && !clientId) throw usageError(`${command} needs a client id`);
  if (extra.length > 0 || (!withId.includes(command) && clientId)) throw usageError(`unexpected argument "${extra[0] ?? clientId}"`);
  if (command === 'create' && !values.name) throw usageError('create needs --name');
  if (command === 'delete' && !values.yes) throw usageError('delete removes the client for good: add --yes to confirm');
  if (command === 'apply' && !values.file) throw usageError('apply needs --file clients.json (or .yaml)');
  const json = values.json;
  const id = clientId ?? '';

  const spec: Partial<ClientSpec> = {
    name: values.name,
    redirectUris: values['redirect-uri'],
    postLogoutRedirectUris: values['post-logout-redirect-uri'],
    public: values.public,
    grantTypes: values['grant-type'],
    scope: values.scope,
    logoUri: values['logo-uri'],
    clientUri: values['client-uri'],
    policyUri: values['policy-uri'],
    tosUri: values['tos-uri'],
    resourceScopes: parseApis(values.api),
    requireMfa: parseMfa(values.mfa),
  };
  // Read the file before connecting, so a bad file fails fast and writes nothing.
  const entries = command === 'apply' ? await readApplyFile(values.file ?? '') : [];

  const needsKey = command === 'create' || command === 'rotate-secret' || command === 'update' || command === 'apply';
  const { config, clients, close } = await openTools('clients', { redis: 'optional', secretKeys: needsKey });
  try {
    const admin = await clients();
    const writes =
      ['create', 'update', 'rotate-secret', 'disable', 'enable', 'delete'].includes(command) || (command === 'apply' && !values['dry-run']);
    const secretLine = (secret: string | undefined) => (secret ? `\nClient secret (shown once, store it now): ${secret}` : '');
    switch (command) {
      case 'create': {
        const result = await admin.create(
          { redirectUris: [], postLogoutRedirectUris: [], public: false, grantTypes: [], ...definedOnly(spec), name: values.name ?? '' },
          values['client-id'],
        );
        print(
          json,
          { client: result.client, clientSecret: result.secret },
          `Created client ${result.client.clientId}\n${describe(result.client)}${secretLine(result.secret)}`,
        );
        break;
      }
      case 'list': {
        const clients = await admin.list();
        print(
          json,
          clients,
          clients.length > 0 ? table(clients.map(row), ['client_id', 'name', 'type', 'grants', 'status']) : 'No registered clients.',
        );
        break;
      }
      case 'show': {
        const client = await admin.show(id);
        print(json, client, describe(client));
        break;
      }
      case 'update': {
        const result = await admin.update(id, definedOnly(spec));
        print(
          json,
          { client: result.client, clientSecret: result.secret },
          `Updated client ${id}\n${describe(result.client)}${secretLine(result.secret)}`,
        );
        break;
      }
      case 'rotate-secret': {
        const result = await admin.rotateSecret(id);
        print(
          json,
          { clientId: id, clientSecret: result.secret },
          `New secret for ${id}; the old one no longer works.${secretLine(result.secret)}`,
        );
        break;
      }
      case 'disable':
      case 'enable': {
        const client = await admin.setDisabled(id, command === 'disable');
        print(json, client, `${command === 'disable' ? 'Disabled' : 'Enabled'} client ${id}`);
        break;
      }
      case 'delete': {
        await admin.delete(id);
        print(json, { deleted: id }, `Deleted client ${id}`);
        break;
      }
      case 'apply': {
        const planned = await admin.plan(entries);
        const generated = values['dry-run'] ? {} : await admin.apply(planned);
        const lines = planned.map((step) => {
          const verb = values['dry-run']
            ? { create: 'would create', change: 'would change', unchanged: 'unchanged' }[step.action]
            : { create: 'created', change: 'changed', unchanged: 'unchanged' }[step.action];
          const detail = step.action === 'change' ? ` (${step.fields.join(', ')})` : '';
          const secret = generated[step.clientId] ? `  secret (shown once): ${generated[step.clientId]}` : '';
          return `${verb.padEnd(12)} ${step.clientId}${detail}${secret}`;
        });
        const summary = planned.map(({ action, clientId: plannedId, ...rest }) => ({
          action,
          clientId: plannedId,
          fields: 'fields' in rest ? rest.fields : undefined,
          clientSecret: generated[plannedId],
        }));
        print(
          json,
          { dryRun: values['dry-run'], plan: summary },
          [...lines, values['dry-run'] ? 'Dry run: nothing was changed.' : 'Done.'].join('\n'),
        );
        break;
      }
    }
    if (writes && !redisTopology(config)) {
      // Without Redis the change cannot be announced; servers notice it when their cached copy expires.
      process.stderr.write(
        `clients: REDIS_URL is not set, so running servers are not told of this change; they apply it within IDP_CLIENT_CACHE_TTL (${config.clientCacheTtl} s)\n`,
      );
    }
  } finally {
    await close();
  }
});

async function readApplyFile(path: string): Promise<ApplyEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new AppError('invalid_input', `cannot read ${path}`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(path) ? YAML.parse(text) : JSON.parse(text);
  } catch (error) {
    throw new AppError(
      'invalid_input',
      `${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('invalid_input', `${path}: ${issue?.path.join('.') || 'file'}: ${issue?.message}`);
  }
  return parsed.data.clients.map((client) => {
    let secret: string | undefined;
    if (client.secret_env) {
      secret = process.env[client.secret_env];
      if (!secret)
        throw new AppError(
          'invalid_input',
          `${path}: client "${client.client_id}" takes its secret from ${client.secret_env}, which is not set`,
        );
      if (secret.length < 32)
        throw new AppError('invalid_input', `${path}: the secret in ${client.secret_env} must be at least 32 characters`);
    }
    return {
      clientId: client.client_id,
      disabled: client.disabled,
      secret,
      spec: {
        name: client.name,
        redirectUris: client.redirect_uris,
        postLogoutRedirectUris: client.post_logout_redirect_uris,
        public: client.public,
        grantTypes: client.grant_types,
        scope: client.scope,
        logoUri: client.logo_uri,
        clientUri: client.client_uri,
        policyUri: client.policy_uri,
        tosUri: client.tos_uri,
        resourceScopes: client.resource_scopes,
        requireMfa: client.require_mfa,
      },
    };
  });
}

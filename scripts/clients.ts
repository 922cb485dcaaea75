/**
 * Register and manage the apps that sign people in here: npm run clients -- <command> [options].
 * Its commands, options and examples are written once, in HELP below (npm run clients -- --help).
 */
import { z } from 'zod';
import { type ApplyEntry, type ClientView, definedOnly } from '../src/clients/client-admin.ts';
import { clientDeclarationSchema, toApplyEntry } from '../src/clients/client-declaration.ts';
import { redisTopology } from '../src/config/redis-topology.ts';
import { AppError } from '../src/errors.ts';
import { readDocument } from '../src/read-document.ts';
import { firstProblem, unknownFieldError } from '../src/zod-problems.ts';
import { isCommand, openTools, parseCommandLine, print, runCli, type ToolHelp, table, usageError, usageLine } from './lib/cli.ts';
import { CLIENT_OPTION_HELP, CLIENT_OPTIONS, specFromOptions } from './lib/client-options.ts';

const SPEC_OPTIONS = CLIENT_OPTION_HELP;
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

const fileSchema = z.strictObject({ clients: z.array(clientDeclarationSchema) }, { error: unknownFieldError });

const row = (client: ClientView) => ({
  client_id: client.clientId,
  name: String(client.metadata.client_name ?? ''),
  type: client.metadata.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
  first_party: client.metadata.first_party === true ? 'yes' : 'no',
  grants: ((client.metadata.grant_types as string[] | undefined) ?? []).join(','),
  status: client.disabled ? 'disabled' : 'enabled',
});
const describe = (client: ClientView) =>
  table(
    [
      ...Object.entries(row(client)).map(([field, value]) => ({ field, value })),
      ...Object.entries(client.metadata)
        .filter(([key]) => !['client_name', 'grant_types', 'first_party'].includes(key))
        .map(([field, value]) => ({ field, value: showValue(value) })),
      { field: 'created', value: client.createdAt },
      { field: 'updated', value: client.updatedAt },
    ],
    ['field', 'value'],
  );

/** A metadata value on one line: lists joined by spaces, resource_scopes as "API: scopes; API: scopes", a key set by its key ids. */
function showValue(value: unknown): string {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (Array.isArray(keys))
    return `${keys.length} key${keys.length === 1 ? '' : 's'}: ${keys.map((key: { kid?: unknown; kty?: unknown }) => `${String(key.kid ?? '(no kid)')} (${String(key.kty)})`).join(', ')}`;
  if (!Array.isArray(value)) return String(value);
  return value
    .map((item: unknown) => {
      const { indicator, scopes } = (typeof item === 'object' && item !== null ? item : {}) as { indicator?: unknown; scopes?: unknown };
      return indicator === undefined ? String(item) : `${String(indicator)}: ${Array.isArray(scopes) ? scopes.join(' ') : ''}`;
    })
    .join(value.some((item) => typeof item === 'object') ? '; ' : ' ');
}

await runCli('clients', async () => {
  const { values, positionals } = parseCommandLine(
    {
      ...CLIENT_OPTIONS,
      'client-id': { type: 'string' },
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

  const spec = await specFromOptions(values);
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
          { redirectUris: [], postLogoutRedirectUris: [], grantTypes: [], ...definedOnly(spec), name: values.name ?? '' },
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
  const read = await readDocument(path);
  if (!read.ok) throw new AppError('invalid_input', read.problem);
  const raw = read.value;
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('invalid_input', `${path}: ${firstProblem(parsed.error)}`);
  return parsed.data.clients.map((client, index) => {
    const converted = toApplyEntry(client, process.env, `clients[${index}]`);
    if (!converted.ok) throw new AppError('invalid_input', `${path}: ${converted.problem}`);
    return converted.entry;
  });
}

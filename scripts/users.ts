/**
 * Manage people's accounts from the command line: npm run users -- <command> [options]
 *
 *   create --username U --email E [--name "Full Name"] [--password-stdin] [--verified]
 *   list [--search TEXT] [--page N] [--per-page N]
 *   show <user>                 (<user> is an id, a username or an email)
 *   disable <user> | enable <user>
 *   set-password <user> --password-stdin
 *   reset-link <user>           prints a single-use password reset link
 *   verify-email <user>
 *   set-name <user> --name "Full Name"   (--name "" removes it; it is the OIDC `name` claim)
 *   delete <user> --yes         also ends the user's sessions and revokes their apps
 *
 * Every command takes --json. Uses MONGODB_URI and REDIS_URL like the server.
 */
import type { UserRecord } from '../src/storage/ports.ts';
import { openTools, parseCommandLine, print, readStdin, runCli, table, usageError } from './lib/cli.ts';

const USAGE =
  'usage: npm run users -- <create|list|show|disable|enable|set-password|reset-link|verify-email|set-name|delete> [options] [--json]';

const summary = (user: UserRecord) => ({
  id: user.id,
  username: user.username,
  email: user.email,
  name: user.name ?? '',
  emailVerified: user.emailVerified,
  active: user.active,
  createdAt: user.createdAt.toISOString(),
});
const revoked = (grants: number) => (grants > 0 ? ` and revoked ${grants} apps` : '');
const describe = (user: UserRecord) =>
  table(
    Object.entries(summary(user)).map(([field, value]) => ({ field, value: String(value) })),
    ['field', 'value'],
  );

await runCli('users', async () => {
  const { values, positionals } = parseCommandLine(
    {
      username: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      verified: { type: 'boolean', default: false },
      search: { type: 'string' },
      page: { type: 'string', default: '1' },
      'per-page': { type: 'string', default: '20' },
      yes: { type: 'boolean', default: false },
    },
    USAGE,
  );
  const [command, reference, ...extra] = positionals;
  if (!command) throw usageError(USAGE);
  if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}"`);
  const needsUser = ['show', 'disable', 'enable', 'set-password', 'reset-link', 'verify-email', 'set-name', 'delete'];
  if (needsUser.includes(command) && !reference) throw usageError(`${command} needs a user: an id, a username or an email`);
  if (!needsUser.includes(command) && !['create', 'list'].includes(command)) throw usageError(`unknown command "${command}"; ${USAGE}`);
  const positiveInt = (name: string, text: string | undefined) => {
    const number = Number(text);
    if (!Number.isInteger(number) || number < 1) throw usageError(`--${name} must be a whole number of at least 1`);
    return number;
  };
  const json = values.json;
  const user = reference ?? '';
  const password = values['password-stdin'] ? await readStdin() : undefined;
  if (command === 'set-password' && password === undefined)
    throw usageError('set-password reads the new password from standard input: add --password-stdin');
  if (command === 'delete' && !values.yes) throw usageError('delete removes the user for good: add --yes to confirm');
  if (command === 'set-name' && values.name === undefined)
    throw usageError('set-name needs --name "Full Name" (or --name "" to remove it)');
  if (command === 'create' && (!values.username || !values.email)) throw usageError('create needs --username and --email');
  const page = positiveInt('page', values.page);
  const perPage = positiveInt('per-page', values['per-page']);

  const { users, close } = await openTools('users');
  const { admin } = await users();
  try {
    switch (command) {
      case 'create': {
        const created = await admin.create({
          username: values.username ?? '',
          email: values.email ?? '',
          name: values.name,
          password,
          verified: values.verified,
        });
        const note = created.generatedPassword ? `\nGenerated password (shown once): ${created.generatedPassword}` : '';
        print(
          json,
          { user: summary(created.user), generatedPassword: created.generatedPassword },
          `Created user ${created.user.username}\n${describe(created.user)}${note}`,
        );
        break;
      }
      case 'list': {
        const result = await admin.list({ search: values.search, page, perPage });
        const rows = result.users.map((entry) => {
          const row = summary(entry);
          return { ...row, emailVerified: row.emailVerified ? 'yes' : 'no', active: row.active ? 'yes' : 'no' };
        });
        const pages = Math.max(1, Math.ceil(result.total / perPage));
        print(
          json,
          { users: result.users.map(summary), total: result.total, page, perPage },
          `${rows.length > 0 ? table(rows, ['id', 'username', 'email', 'emailVerified', 'active', 'createdAt']) : 'No users.'}\npage ${page} of ${pages}, ${result.total} users`,
        );
        break;
      }
      case 'show': {
        const found = await admin.find(user);
        print(json, summary(found), describe(found));
        break;
      }
      case 'disable':
      case 'enable': {
        const result = await admin.setActive(user, command === 'enable');
        const ended = command === 'disable' ? ` and ended ${result.sessionsEnded} sessions${revoked(result.grantsRevoked)}` : '';
        print(
          json,
          { user: summary(result.user), sessionsEnded: result.sessionsEnded, grantsRevoked: result.grantsRevoked },
          `${command === 'enable' ? 'Enabled' : 'Disabled'} ${result.user.username}${ended}`,
        );
        break;
      }
      case 'set-password': {
        const result = await admin.setPassword(user, password ?? '');
        print(
          json,
          { user: summary(result.user), sessionsEnded: result.sessionsEnded, grantsRevoked: result.grantsRevoked },
          `Password set for ${result.user.username}; ended ${result.sessionsEnded} sessions${revoked(result.grantsRevoked)}`,
        );
        break;
      }
      case 'reset-link': {
        const result = await admin.resetLink(user);
        print(
          json,
          { user: summary(result.user), link: result.link },
          `Single-use reset link for ${result.user.username}:\n${result.link}`,
        );
        break;
      }
      case 'verify-email': {
        const result = await admin.verifyEmail(user);
        print(json, summary(result.user), `Email of ${result.user.username} (${result.user.email}) marked verified`);
        break;
      }
      case 'set-name': {
        const result = await admin.setName(user, values.name ?? '');
        print(
          json,
          summary(result.user),
          result.user.name ? `Name of ${result.user.username} set to "${result.user.name}"` : `Name of ${result.user.username} removed`,
        );
        break;
      }
      case 'delete': {
        const result = await admin.delete(user);
        print(
          json,
          { deleted: summary(result.user), sessionsEnded: result.sessionsEnded, grantsRevoked: result.grantsRevoked },
          `Deleted ${result.user.username}; ended ${result.sessionsEnded} sessions and revoked ${result.grantsRevoked} apps`,
        );
        break;
      }
    }
  } finally {
    await close();
  }
});

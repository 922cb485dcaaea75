/**
 * Manage people's accounts from the command line: npm run users -- <command> [options].
 * Its commands, options and examples are written once, in HELP below (npm run users -- --help).
 */
import { deviceOf } from '../src/audit/device.ts';
import { describeEventType } from '../src/audit/event-types.ts';
import type { ClaimValue, StoredSecurityEvent, UpstreamLink, UserRecord } from '../src/storage/ports.ts';
import {
  isCommand,
  openTools,
  parseCommandLine,
  print,
  readStdin,
  runCli,
  type ToolHelp,
  table,
  usageError,
  usageLine,
} from './lib/cli.ts';

const USER = '<user> is an id, a username or an email.';
const HELP: ToolHelp = {
  usage: 'npm run users -- <command> [options] [--json]',
  summary:
    'Manages the accounts of the people who sign in here, in the MongoDB (and Redis) the server uses. Needs MONGODB_URI and REDIS_URL. Every command takes --json.',
  commands: {
    create: {
      usage:
        'npm run users -- create --username U --email E [--name "Full Name"] [--password-stdin] [--verified] [--group G]... [--claim NAME=VALUE]...',
      summary: 'Creates an account; without --password-stdin a password is generated and printed once.',
      options: [
        ['--username U', 'the username (required)'],
        ['--email E', 'the email address (required)'],
        ['--name "Full Name"', 'the OIDC name claim'],
        ['--password-stdin', 'read the password from standard input'],
        ['--verified', 'mark the email as verified'],
        ['--group G', 'a group the user is in (repeatable): the groups claim'],
        ['--claim NAME=VALUE', 'an extra claim (repeatable), released by the scope IDP_CLAIM_SCOPES ties it to'],
        ['--value-json', 'read each claim VALUE as JSON (3, true, ["a","b"], {"k":"v"}) instead of text'],
      ],
      example: 'npm run users -- create --username ada --email ada@example.com --verified --group admins --claim department=research',
    },
    list: {
      usage: 'npm run users -- list [--search TEXT] [--page N] [--per-page N]',
      summary: 'Lists accounts, newest first, a page at a time.',
      options: [
        ['--search TEXT', 'only usernames or emails containing TEXT'],
        ['--page N', 'the page (default 1)'],
        ['--per-page N', 'accounts per page (default 20)'],
      ],
      example: 'npm run users -- list --search example.com',
    },
    show: { usage: 'npm run users -- show <user>', summary: `Shows one account. ${USER}`, example: 'npm run users -- show ada' },
    disable: {
      usage: 'npm run users -- disable <user>',
      summary: `Disables an account: ends its sessions and revokes every app's tokens. ${USER}`,
      example: 'npm run users -- disable ada@example.com',
    },
    enable: {
      usage: 'npm run users -- enable <user>',
      summary: `Enables a disabled account (its old tokens stay revoked). ${USER}`,
      example: 'npm run users -- enable ada',
    },
    'set-password': {
      usage: 'npm run users -- set-password <user> --password-stdin',
      summary: "Sets a new password read from standard input; ends the account's sessions and revokes its apps' tokens.",
      options: [['--password-stdin', 'read the new password from standard input (required)']],
      example: 'printf \'%s\' "$NEW_PASSWORD" | npm run users -- set-password ada --password-stdin',
    },
    'reset-link': {
      usage: 'npm run users -- reset-link <user>',
      summary: `Prints a single-use password reset link. ${USER}`,
      example: 'npm run users -- reset-link ada',
    },
    'verify-email': {
      usage: 'npm run users -- verify-email <user>',
      summary: `Marks the account's email as verified. ${USER}`,
      example: 'npm run users -- verify-email ada',
    },
    'set-name': {
      usage: 'npm run users -- set-name <user> --name "Full Name"',
      summary: 'Sets the OIDC name claim; --name "" removes it.',
      options: [['--name "Full Name"', 'the new name (required; "" removes it)']],
      example: 'npm run users -- set-name ada --name "Ada Lovelace"',
    },
    'add-group': {
      usage: 'npm run users -- add-group <user> <group>...',
      summary: `Adds the user to one or more groups (the groups claim, released by the groups scope). ${USER}`,
      example: 'npm run users -- add-group ada admins staff',
    },
    'remove-group': {
      usage: 'npm run users -- remove-group <user> <group>...',
      summary: `Removes the user from one or more groups. ${USER}`,
      example: 'npm run users -- remove-group ada staff',
    },
    'set-claim': {
      usage: 'npm run users -- set-claim <user> NAME=VALUE... [--value-json]',
      summary: 'Sets extra claims (others keep their values); each is released by the scope IDP_CLAIM_SCOPES ties it to.',
      options: [['--value-json', 'read each VALUE as JSON (3, true, ["a","b"], {"k":"v"}) instead of text']],
      example: 'npm run users -- set-claim ada department=research level=3 --value-json',
    },
    'remove-claim': {
      usage: 'npm run users -- remove-claim <user> NAME...',
      summary: `Removes extra claims. ${USER}`,
      example: 'npm run users -- remove-claim ada department',
    },
    'reset-mfa': {
      usage: 'npm run users -- reset-mfa <user> [--print-link]',
      summary: `For a person who lost their device: removes their authenticator app, recovery codes and passkeys, ends their sessions, revokes their apps' tokens, and makes their password unusable (whoever has the device may know it); a password reset link goes to their verified email address (SMTP_URL needed), or with --print-link is printed for you to hand over once you know who they are. They choose a new password and set up again. ${USER}`,
      options: [['--print-link', 'print the password reset link instead of emailing it (needed when the address is not verified)']],
      example: 'npm run users -- reset-mfa ada',
    },
    events: {
      usage: 'npm run users -- events <user> [--limit N]',
      summary: `Lists the account's security events, newest first: sign-ins, failures, password and profile changes, administrators' changes. ${USER}`,
      options: [['--limit N', 'at most N events (default 50)']],
      example: 'npm run users -- events ada --json',
    },
    links: {
      usage: 'npm run users -- links <user>',
      summary: `Lists the account's sign-ins through upstream identity providers (IDP_UPSTREAMS). ${USER}`,
      example: 'npm run users -- links ada',
    },
    unlink: {
      usage: 'npm run users -- unlink <user> --upstream ID [--subject S]',
      summary: 'Removes a linked sign-in, even the last one (the person can still set a password with a reset link).',
      options: [
        ['--upstream ID', 'the upstream: its IDP_UPSTREAMS id or its issuer (required)'],
        ['--subject S', "the upstream's id of the person, when the account has several links to that upstream"],
      ],
      example: 'npm run users -- unlink ada --upstream github',
    },
    delete: {
      usage: 'npm run users -- delete <user> --yes',
      summary: "Deletes an account for good, ending its sessions and revoking its apps' tokens.",
      options: [['--yes', 'confirm (required)']],
      example: 'npm run users -- delete ada --yes',
    },
  },
  example: 'npm run users -- list',
};
const USAGE = usageLine(HELP);

const summary = (user: UserRecord) => ({
  id: user.id,
  username: user.username,
  email: user.email,
  name: user.name ?? '',
  groups: user.groups,
  claims: user.claims,
  emailVerified: user.emailVerified,
  active: user.active,
  twoStep: user.factors.totp !== undefined,
  recoveryCodes: user.factors.recoveryCodes.length,
  createdAt: user.createdAt.toISOString(),
});
const eventRow = (event: StoredSecurityEvent) => {
  const device = deviceOf(event.userAgent);
  return {
    at: event.at.toISOString(),
    type: event.type,
    what: describeEventType(event.type, 'en'),
    actor: event.actor,
    clientId: event.clientId ?? '',
    ip: event.ip ?? '',
    device: device ? [device.browser, device.os].filter(Boolean).join(' on ') || (device.raw ?? '') : '',
    userAgent: event.userAgent ?? '',
    requestId: event.requestId ?? '',
    details: event.details ?? {},
  };
};
const linkSummary = (link: UpstreamLink) => ({
  upstream: link.upstream,
  issuer: link.issuer,
  subject: link.subject,
  label: link.label ?? '',
  linkedAt: link.linkedAt.toISOString(),
});
const linkTable = (links: UpstreamLink[]) =>
  links.length > 0 ? table(links.map(linkSummary), ['upstream', 'issuer', 'subject', 'label', 'linkedAt']) : 'No linked sign-ins.';
const revoked = (grants: number) => (grants > 0 ? ` and revoked ${grants} apps` : '');
const describe = (user: UserRecord) =>
  table(
    Object.entries(summary(user)).map(([field, value]) => ({
      field,
      value: Array.isArray(value) ? value.join(', ') : typeof value === 'object' ? JSON.stringify(value) : String(value),
    })),
    ['field', 'value'],
  );
/** A note on claims no scope releases: they are stored, but no app sees them until IDP_CLAIM_SCOPES names them. */
const unreleasedNote = (claims: string[]) =>
  claims.length > 0
    ? `\nNote: no scope releases ${claims.map((claim) => `"${claim}"`).join(', ')}; tie it to one in IDP_CLAIM_SCOPES, e.g. {"profile": ["${claims[0]}"]}`
    : '';

/** NAME=VALUE words as claims; VALUE is text, or JSON with --value-json. */
function parseClaims(words: string[], json: boolean): Record<string, ClaimValue> {
  const claims: Record<string, ClaimValue> = {};
  for (const word of words) {
    const at = word.indexOf('=');
    if (at < 1) throw usageError(`a claim is NAME=VALUE, got "${word}"`);
    const name = word.slice(0, at);
    const text = word.slice(at + 1);
    if (Object.hasOwn(claims, name)) throw usageError(`the claim "${name}" is given twice`);
    if (!json) {
      claims[name] = text;
      continue;
    }
    try {
      claims[name] = JSON.parse(text) as ClaimValue;
    } catch {
      throw usageError(`the value of "${name}" is not JSON (--value-json): ${text}`);
    }
  }
  return claims;
}

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
      limit: { type: 'string', default: '50' },
      yes: { type: 'boolean', default: false },
      'print-link': { type: 'boolean', default: false },
      upstream: { type: 'string' },
      subject: { type: 'string' },
      group: { type: 'string', multiple: true },
      claim: { type: 'string', multiple: true },
      'value-json': { type: 'boolean', default: false },
    },
    HELP,
  );
  const [command, reference, ...extra] = positionals;
  if (!command) throw usageError(USAGE);
  // These commands take their groups or claims as words after the user.
  const listing = { 'add-group': 'a group', 'remove-group': 'a group', 'set-claim': 'NAME=VALUE', 'remove-claim': 'a claim name' } as const;
  const takesWords = Object.hasOwn(listing, command);
  if (extra.length > 0 && !takesWords) throw usageError(`unexpected argument "${extra[0]}"`);
  const needsUser = [
    'show',
    'disable',
    'enable',
    'set-password',
    'reset-link',
    'verify-email',
    'set-name',
    'delete',
    ...Object.keys(listing),
    'reset-mfa',
    'events',
    'links',
    'unlink',
  ];
  if (needsUser.includes(command) && !reference) throw usageError(`${command} needs a user: an id, a username or an email`);
  if (!isCommand(HELP, command)) throw usageError(`unknown command "${command}"; ${USAGE}`);
  if (takesWords && extra.length === 0) throw usageError(`${command} needs ${listing[command as keyof typeof listing]} after the user`);
  if (command !== 'create' && (values.group || values.claim))
    throw usageError('--group and --claim are for create; use add-group or set-claim');
  const claims = parseClaims(command === 'set-claim' ? extra : (values.claim ?? []), values['value-json']);
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
  if (command === 'unlink' && !values.upstream) throw usageError('unlink needs --upstream ID (an IDP_UPSTREAMS id or an issuer)');
  const page = positiveInt('page', values.page);
  const perPage = positiveInt('per-page', values['per-page']);
  const limit = positiveInt('limit', values.limit);

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
          groups: values.group,
          claims,
        });
        const note = created.generatedPassword ? `\nGenerated password (shown once): ${created.generatedPassword}` : '';
        print(
          json,
          { user: summary(created.user), generatedPassword: created.generatedPassword, unreleasedClaims: created.unreleased },
          `Created user ${created.user.username}\n${describe(created.user)}${note}${unreleasedNote(created.unreleased)}`,
        );
        break;
      }
      case 'add-group':
      case 'remove-group': {
        const result = command === 'add-group' ? await admin.addGroups(user, extra) : await admin.removeGroups(user, extra);
        const groups = result.user.groups.length > 0 ? result.user.groups.join(', ') : '(none)';
        print(json, summary(result.user), `Groups of ${result.user.username}: ${groups}`);
        break;
      }
      case 'set-claim':
      case 'remove-claim': {
        const result = await admin.updateClaims(user, command === 'set-claim' ? { set: claims } : { remove: extra });
        const unreleased = 'unreleased' in result ? result.unreleased : [];
        print(
          json,
          { user: summary(result.user), unreleasedClaims: unreleased },
          `Claims of ${result.user.username}: ${JSON.stringify(result.user.claims)}${unreleasedNote(unreleased)}`,
        );
        break;
      }
      case 'list': {
        const result = await admin.list({ search: values.search, page, perPage });
        const rows = result.users.map((entry) => {
          const { groups, claims: _claims, ...row } = summary(entry);
          return {
            ...row,
            groups: groups.join(','),
            emailVerified: row.emailVerified ? 'yes' : 'no',
            active: row.active ? 'yes' : 'no',
            twoStep: row.twoStep ? 'yes' : 'no',
            recoveryCodes: String(row.recoveryCodes),
          };
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
        const { user: found, links } = await admin.links(user);
        print(json, { ...summary(found), links: links.map(linkSummary) }, `${describe(found)}\n${linkTable(links)}`);
        break;
      }
      case 'links': {
        const { user: found, links } = await admin.links(user);
        print(json, { user: summary(found), links: links.map(linkSummary) }, linkTable(links));
        break;
      }
      case 'unlink': {
        const result = await admin.unlink(user, values.upstream ?? '', values.subject);
        const stranded = result.linksLeft === 0 && !result.hasPassword;
        const note = stranded
          ? `\n${result.user.username} now has no way to sign in: send a reset link (npm run users -- reset-link) to set a password`
          : '';
        print(
          json,
          { user: summary(result.user), unlinked: linkSummary(result.link), linksLeft: result.linksLeft, hasPassword: result.hasPassword },
          `Removed the ${result.link.upstream} sign-in (${result.link.subject}) of ${result.user.username}${note}`,
        );
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
      case 'reset-mfa': {
        const result = await admin.resetMfa(user, { printLink: values['print-link'] });
        const { totp, recoveryCodes, passkeys } = result.removed;
        const removed = [totp ? 'the authenticator app' : '', `${recoveryCodes} recovery codes`, `${passkeys} passkeys`].filter(Boolean);
        const next = result.link
          ? `Single-use password reset link (give it to them once you know who they are):\n${result.link}`
          : `A password reset link was emailed to ${result.emailedTo}.`;
        print(
          json,
          {
            user: summary(result.user),
            removed: result.removed,
            sessionsEnded: result.sessionsEnded,
            grantsRevoked: result.grantsRevoked,
            passwordUnusable: true,
            ...(result.link ? { link: result.link } : { emailedTo: result.emailedTo }),
          },
          `Removed ${removed.join(', ')} of ${result.user.username}; ended ${result.sessionsEnded} sessions${revoked(result.grantsRevoked)}; the password no longer works.\n${next}`,
        );
        break;
      }
      case 'events': {
        const result = await admin.events(user, limit);
        const rows = result.events.map(eventRow);
        const text = rows.map(({ details: _details, ...row }) => ({ ...row, device: row.device || row.userAgent }));
        print(
          json,
          { user: summary(result.user), events: rows },
          rows.length > 0
            ? `Security events of ${result.user.username}, newest first:\n${table(text, ['at', 'type', 'actor', 'clientId', 'ip', 'device'])}`
            : `No security events of ${result.user.username} in the retention period.`,
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

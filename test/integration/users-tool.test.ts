import { beforeAll, describe, expect, jest, test } from '@jest/globals';
import { useTestApp } from '../support/app-fixture.ts';
import { runTool } from '../support/cli.ts';
import { newAccount, openAuthorization, registerAndConsent, rpClient, signInFrom } from '../support/relying-party.ts';
import { expectPage, UserAgent } from '../support/user-agent.ts';

/** `npm run users`, run as a process against the MongoDB and Redis the running server uses. */
// Each test runs the tool as several processes, each a Node start-up and a database connection; on
// a loaded 2-core machine a dozen of them can pass jest's default 30 s.
jest.setTimeout(120_000);

describe('users tool', () => {
  const client = rpClient();
  const app = useTestApp('users-tool', { clients: () => [client], relyingParty: client });
  let env: Record<string, string>;
  const users = (args: string[], stdin?: string) => runTool('users', args, env, stdin);

  beforeAll(() => {
    env = app.toolEnv();
  });

  test('create, show, list with search and paging, as tables or JSON', async () => {
    const created = await users(
      ['create', '--username', 'grace.h', '--email', 'Grace@Example.com', '--password-stdin', '--json'],
      'a long password for grace\n',
    );
    expect(created.code).toBe(0);
    const record = JSON.parse(created.stdout) as { user: { id: string; email: string; emailVerified: boolean } };
    expect(record.user).toMatchObject({ email: 'grace@example.com', emailVerified: false });

    const generated = await users(['create', '--username', 'alan.t', '--email', 'alan@example.com', '--verified']);
    expect(generated.code).toBe(0);
    expect(generated.stdout).toMatch(/Generated password \(shown once\): \S{20,}/);

    const shown = await users(['show', 'GRACE@example.com']);
    expect(shown.stdout).toMatch(/^FIELD\s+VALUE\nid\s+\S+\nusername\s+grace\.h\n/);

    const page = JSON.parse((await users(['list', '--search', 'a', '--per-page', '1', '--page', '2', '--json'])).stdout) as {
      users: Array<{ username: string }>;
      total: number;
    };
    expect(page.total).toBe(2);
    expect(page.users.map((user) => user.username)).toEqual(['alan.t']);
    const human = await users(['list']);
    expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+USERNAME\s+EMAIL\s+EMAILVERIFIED\s+ACTIVE\s+CREATEDAT$/);
    expect(human.stdout).toContain('page 1 of 1, 2 users');
  });

  test('a created user can sign in; disable stops it and ends its sessions; enable restores it', async () => {
    await users(['create', '--username', 'ada', '--email', 'ada@example.com', '--password-stdin'], 'ada lovelace long password');
    const browser = new UserAgent();
    const consent = expectPage(
      await signInFrom(browser, await openAuthorization(browser, await app.rp.authorize()), 'ada', 'ada lovelace long password'),
    );
    expect(consent.$('h1').text()).toContain('wants to access your account');

    const disabled = await users(['disable', 'ada', '--json']);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ user: { active: false }, sessionsEnded: 1 });
    const refused = expectPage(
      await signInFrom(browser, await openAuthorization(browser, await app.rp.authorize()), 'ada', 'ada lovelace long password'),
    );
    expect(refused.$('[role=alert]').text()).toContain('disabled');

    expect((await users(['enable', 'ada'])).stdout).toBe('Enabled ada\n');
    const again = expectPage(
      await signInFrom(browser, await openAuthorization(browser, await app.rp.authorize()), 'ada', 'ada lovelace long password'),
    );
    expect(again.status).toBe(200);
  });

  test('disable reaches a server that has the user cached: refresh and userinfo are refused at once', async () => {
    const account = newAccount('cached');
    const authorization = await app.rp.authorize();
    const tokens = await app.rp.exchange(authorization, await registerAndConsent(new UserAgent(), authorization, account));
    const sub = tokens.claims()?.sub ?? '';
    // Both of these resolve the account, so the server now holds it in its cache.
    expect((await app.rp.userinfo(tokens.access_token, sub)).sub).toBe(sub);
    const refreshed = await app.rp.refresh(tokens.refresh_token ?? '');
    expect(app.server.config.userCacheTtl).toBeGreaterThan(0);

    expect((await users(['disable', account.username])).code).toBe(0);
    await expect(app.rp.refresh(refreshed.refresh_token ?? tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(app.rp.userinfo(refreshed.access_token, sub)).rejects.toMatchObject({ status: 401 });
  });

  /** A new person signed in to the app through the browser, with the app's access and refresh token. */
  const connected = async (label: string) => {
    const account = newAccount(label);
    const authorization = await app.rp.authorize();
    const tokens = await app.rp.exchange(authorization, await registerAndConsent(new UserAgent(), authorization, account));
    expect(await app.rp.active(tokens)).toEqual({ access: true, refresh: true });
    return { account, tokens };
  };

  test("disable revokes the apps' tokens, and enable brings none of them back", async () => {
    const { account, tokens } = await connected('revoked');
    const disabled = await users(['disable', account.username, '--json']);
    expect(await app.rp.active(tokens)).toEqual({ access: false, refresh: false });
    expect(JSON.parse(disabled.stdout)).toMatchObject({ user: { active: false }, sessionsEnded: 1, grantsRevoked: 1 });

    expect((await users(['enable', account.username])).code).toBe(0);
    expect(await app.rp.active(tokens)).toEqual({ access: false, refresh: false });
    await expect(app.rp.refresh(tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test("set-password ends the sessions and revokes the apps' tokens", async () => {
    const { account, tokens } = await connected('newpass');
    const set = await users(['set-password', account.username, '--password-stdin', '--json'], 'a replaced and long passphrase');
    expect(set.code).toBe(0);
    expect(await app.rp.active(tokens)).toEqual({ access: false, refresh: false });
    await expect(app.rp.refresh(tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(JSON.parse(set.stdout)).toMatchObject({ sessionsEnded: 1, grantsRevoked: 1 });
  });

  test('set-password applies the policy; reset-link prints a working single-use link; verify-email', async () => {
    await users(['create', '--username', 'linus', '--email', 'linus@example.com']);
    const weak = await users(['set-password', 'linus', '--password-stdin'], 'qwerty123456789');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/^users: password: This password is on a list of passwords/);
    expect((await users(['set-password', 'linus', '--password-stdin'], 'penguins are quite good')).stdout).toBe(
      'Password set for linus; ended 0 sessions\n',
    );

    const link = (await users(['reset-link', 'linus'])).stdout.split('\n')[1] ?? '';
    expect(link).toMatch(new RegExp(`^${app.server.url}/reset-password\\?token=`));
    const form = expectPage(await new UserAgent().get(link));
    expect(form.$('h1').text()).toBe('Choose a new password');

    expect((await users(['verify-email', 'linus@example.com', '--json'])).stdout).toContain('"emailVerified": true');
  });

  test('a full name set with --name or set-name is the name claim; a bad one is refused; "" removes it', async () => {
    const created = await users(['create', '--username', 'marie', '--email', 'marie@example.com', '--name', '  Marie Curie ', '--json']);
    expect(JSON.parse(created.stdout)).toMatchObject({ user: { name: 'Marie Curie' } });
    const bad = await users(['set-name', 'marie', '--name', 'Marie\u0007']);
    expect(bad).toMatchObject({ code: 1, stderr: 'users: name: Remove the control characters from your name.\n' });
    expect((await users(['set-name', 'marie', '--name', 'Maria Skłodowska-Curie'])).stdout).toBe(
      'Name of marie set to "Maria Skłodowska-Curie"\n',
    );
    expect((await app.server.users.userService.findById((JSON.parse(created.stdout) as { user: { id: string } }).user.id))?.name).toBe(
      'Maria Skłodowska-Curie',
    );
    expect((await users(['set-name', 'marie', '--name', ''])).stdout).toBe('Name of marie removed\n');
    expect(JSON.parse((await users(['show', 'marie', '--json'])).stdout)).toMatchObject({ name: '' });
  });

  test('shows and removes linked sign-ins (upstream identity providers), even the last one', async () => {
    await users(['create', '--username', 'linked.one', '--email', 'linked@example.com']);
    const user = await app.server.users.userService.findByLogin('linked.one');
    if (!user) throw new Error('not created');
    await app.server.stores.users.addLink(user.id, {
      issuer: 'https://github.com',
      subject: '583231',
      upstream: 'github',
      label: 'octocat',
    });

    const shown = await users(['show', 'linked.one']);
    expect(shown.stdout).toMatch(
      /\nUPSTREAM\s+ISSUER\s+SUBJECT\s+LABEL\s+LINKEDAT\ngithub\s+https:\/\/github\.com\s+583231\s+octocat\s+\S+\n/,
    );
    const listed = JSON.parse((await users(['links', 'linked.one', '--json'])).stdout) as { links: unknown[] };
    expect(listed.links).toEqual([
      { upstream: 'github', issuer: 'https://github.com', subject: '583231', label: 'octocat', linkedAt: expect.any(String) },
    ]);

    const none = await users(['unlink', 'linked.one', '--upstream', 'google']);
    expect(none).toMatchObject({ code: 1, stderr: 'users: linked.one has no link to "google"\n' });
    expect((await users(['unlink', 'linked.one'])).code).toBe(2);
    const removed = await users(['unlink', 'linked.one', '--upstream', 'https://github.com']);
    expect(removed).toMatchObject({ code: 0, stdout: 'Removed the github sign-in (583231) of linked.one\n' });
    expect(await app.server.stores.users.linksOf(user.id)).toEqual([]);
    expect((await users(['links', 'linked.one'])).stdout).toBe('No linked sign-ins.\n');
  });

  test('groups and extra claims: --group and --claim on create, add-group, remove-group, set-claim, remove-claim', async () => {
    const created = await users([
      'create',
      ...['--username', 'kathy', '--email', 'kathy@example.com', '--group', 'admins', '--group', 'staff'],
      ...['--claim', 'department=engineering', '--json'],
    ]);
    expect(JSON.parse(created.stdout)).toMatchObject({
      user: { groups: ['admins', 'staff'], claims: { department: 'engineering' } },
      // This app ties no claim to a scope (IDP_CLAIM_SCOPES), so the tool says no app will see it.
      unreleasedClaims: ['department'],
    });
    expect((await users(['add-group', 'kathy', 'ops', 'admins'])).stdout).toBe('Groups of kathy: admins, staff, ops\n');
    expect((await users(['remove-group', 'kathy', 'staff'])).stdout).toBe('Groups of kathy: admins, ops\n');
    const typed = await users(['set-claim', 'kathy', 'level=3', 'tags=["a","b"]', '--value-json', '--json']);
    expect(JSON.parse(typed.stdout)).toMatchObject({ user: { claims: { department: 'engineering', level: 3, tags: ['a', 'b'] } } });
    const removed = await users(['remove-claim', 'kathy', 'department']);
    expect(removed.stdout).toBe('Claims of kathy: {"level":3,"tags":["a","b"]}\n');

    const cases: Array<[string[], number, string]> = [
      [
        ['set-claim', 'kathy', 'email=me@example.com'],
        1,
        'users: claim.email: "email" is a claim the server sets itself; choose another name\n',
      ],
      [['set-claim', 'kathy', 'n={x', '--value-json'], 2, 'users: the value of "n" is not JSON (--value-json): {x\n'],
      [['remove-group', 'kathy', 'never'], 1, 'users: kathy is not in the group "never"\n'],
      [['add-group', 'kathy', ' padded'], 1, 'users: group " padded": a group name cannot start or end with a space\n'],
    ];
    for (const [args, code, stderr] of cases) expect({ args, ...(await users(args)) }).toMatchObject({ args, code, stderr });
    expect((await users(['show', 'kathy'])).stdout).toMatch(/\ngroups\s+admins, ops\nclaims\s+\{"level":3,"tags":\["a","b"\]\}\n/);
  });

  test("delete removes the user, their sessions and their apps' grants", async () => {
    const account = newAccount('doomed');
    const browser = new UserAgent();
    const authorization = await app.rp.authorize();
    const tokens = await app.rp.exchange(authorization, await registerAndConsent(browser, authorization, account));
    const refusedWithoutYes = await users(['delete', account.username]);
    expect(refusedWithoutYes.code).toBe(2);
    expect(refusedWithoutYes.stderr).toBe('users: delete removes the user for good: add --yes to confirm\n');

    const deleted = await users(['delete', account.username, '--yes', '--json']);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ sessionsEnded: 1, grantsRevoked: 1 });
    await expect(app.rp.refresh(tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await app.server.stores.users.findByUsernameKey(account.username.toLowerCase())).toBeUndefined();
    expect((await users(['show', account.username])).stderr).toBe(
      `users: no user "${account.username}" (give an id, a username or an email)\n`,
    );
  });

  test('bad input gives one line and a non-zero exit', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [[], 2, /^users: usage: /],
      [['frobnicate'], 2, /^users: unknown command "frobnicate"/],
      [['show'], 2, /^users: show needs a user/],
      [['list', '--page', 'zero'], 2, /^users: --page must be a whole number/],
      [['create', '--username', 'x', '--email', 'nope'], 1, /^users: username: .*; email: Enter a valid email address/],
      [['create', '--username', 'grace.h', '--email', 'other@example.com'], 1, /^users: username: This username is already taken/],
      [['list', '--bogus'], 2, /^users: Unknown option '--bogus'/],
    ];
    for (const [args, code, message] of cases) {
      const result = await users(args);
      expect({ args, code: result.code }).toEqual({ args, code });
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    const unreachable = await runTool('users', ['list'], { ...env, MONGODB_URI: 'mongodb://127.0.0.1:9/x' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^users: cannot connect to MongoDB at mongodb:\/\/127\.0\.0\.1:9\/x/);
  });
});

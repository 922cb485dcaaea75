import { randomBytes } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { ACCOUNT_CLIENT_ID } from '../../src/oidc/configuration/account-client.ts';
import { useTestApp } from '../support/app-fixture.ts';
import { runTool } from '../support/cli.ts';
import { newAccount, registerAndConsent, rpClient, signInFrom } from '../support/relying-party.ts';
import { expectPage, type Page, UserAgent } from '../support/user-agent.ts';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

interface ListedEvent {
  type: string;
  actor: string;
  clientId: string;
  ip: string;
  device: string;
  requestId: string;
  details: Record<string, unknown>;
}

/** Security events, as the person sees them on the account page and an administrator with the users tool. */
describe('security events', () => {
  const client = rpClient();
  const app = useTestApp('security-events', { clients: () => [client], relyingParty: client });
  const users = (args: string[]) => runTool('users', args, app.toolEnv());
  /** The rows of "Recent activity": when, what (and through which app), device, address. */
  const activity = (page: Page) =>
    page
      .$('table.activity tbody tr')
      .toArray()
      .map((row) => {
        const cell = (index: number) => page.$(row).find('td').eq(index);
        return {
          when: cell(0).text().trim(),
          at: cell(0).find('time').attr('datetime'),
          what: cell(1).find('.activity-what').text(),
          app: cell(1).find('.activity-app').text(),
          device: cell(2).text(),
          address: cell(3).text(),
        };
      });

  test('sign in after one failure, change the password: the account page and `users events --json` list exactly that', async () => {
    const account = newAccount('audit');
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);

    const agent = new UserAgent({ headers: { 'User-Agent': FIREFOX } });
    const loginPage = expectPage(await agent.get(new URL('/account', app.server.url)));
    expect(expectPage(await signInFrom(agent, loginPage, account.username, 'not the password at all')).status).toBe(401);
    const accountPage = expectPage(await signInFrom(agent, loginPage, account.username, account.password));
    const newPassword = `${account.password} and more`;
    const changed = expectPage(
      await agent.submit(accountPage, 'form[action="/account/password"]', {
        currentPassword: account.password,
        password: newPassword,
        confirmPassword: newPassword,
      }),
    );
    expect(changed.$('.flash').text()).toContain('Password changed.');

    expect(changed.$('#activity-heading').text()).toBe('Recent activity');
    const rows = activity(changed);
    // A registration signs the new account in, so its sign-in follows "Account created".
    expect(rows.map((row) => row.what)).toEqual(['Password changed', 'Signed in', 'Sign-in failed', 'Signed in', 'Account created']);
    for (const row of rows.slice(0, 3)) {
      expect(row.when).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s?[AP]M UTC$/);
      expect(Date.now() - Date.parse(String(row.at))).toBeLessThan(10 * 60_000);
      expect(row).toMatchObject({ app: '', device: 'Firefox 128 on Linux', address: '127.0.0.1' });
    }
    // Registered through the app: the event names it; undici's fetch is no browser, so its User-Agent is shown as sent.
    expect(rows[3]).toMatchObject({ app: 'App: Example App', device: 'node', address: '127.0.0.1' });
    // The same page in German.
    const german = new UserAgent({ headers: { 'User-Agent': FIREFOX, 'Accept-Language': 'de' } });
    const germanLogin = expectPage(await german.get(new URL('/account', app.server.url)));
    const germanPage = expectPage(await signInFrom(german, germanLogin, account.username, newPassword));
    expect(germanPage.$('#activity-heading').text()).toBe('Letzte Aktivitäten');
    expect(activity(germanPage).map((row) => row.what)).toEqual([
      'Angemeldet',
      'Passwort geändert',
      'Angemeldet',
      'Anmeldung fehlgeschlagen',
      'Angemeldet',
      'Konto erstellt',
    ]);
    expect(activity(germanPage)[0]?.device).toBe('Firefox 128 unter Linux');

    const listed = await users(['events', account.username, '--json']);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const { events } = JSON.parse(listed.stdout) as { events: ListedEvent[] };
    expect(events.map((event) => event.type)).toEqual([
      'login.succeeded',
      'account.password_changed',
      'login.succeeded',
      'login.failed',
      'login.succeeded',
      'account.registered',
    ]);
    const [, passwordChanged, signedIn, failed, registrationSignIn, registered] = events;
    expect(registrationSignIn).toMatchObject({ clientId: client.client_id, details: { acr: '1', amr: 'pwd' } });
    expect(failed).toMatchObject({ actor: 'user', ip: '127.0.0.1', device: 'Firefox 128 on Linux', details: { reason: 'invalid' } });
    expect(failed?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(signedIn).toMatchObject({ actor: 'user', clientId: ACCOUNT_CLIENT_ID, details: { remember: false, acr: '1', amr: 'pwd' } });
    // The registration's session ended; the app's and the account page's grants were revoked.
    expect(passwordChanged).toMatchObject({ actor: 'user', details: { sessionsEnded: 1, grantsRevoked: 2 } });
    expect(registered).toMatchObject({ clientId: client.client_id });
  });

  test("an administrator's change is the account's event too, by an administrator; a deleted account's events go with it", async () => {
    const account = newAccount('audited');
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);
    expect(await users(['disable', account.username])).toMatchObject({ code: 0 });
    const listed = JSON.parse((await users(['events', account.email, '--json', '--limit', '1'])).stdout) as { events: ListedEvent[] };
    expect(listed.events).toEqual([expect.objectContaining({ type: 'admin.account_disabled', actor: 'admin', ip: '' })]);
    const text = await users(['events', account.username]);
    expect(text.stdout).toMatch(/admin\.account_disabled +admin/);
    expect(text.stdout).toMatch(/account\.registered +user/);

    const user = await app.server.stores.users.findByEmail(account.email);
    expect(await users(['delete', account.username, '--yes'])).toMatchObject({ code: 0 });
    expect(await app.server.stores.securityEvents.forAccount(String(user?.id), { since: new Date(0), limit: 10 })).toEqual([]);
  });

  test("an administrator's changes to an app are kept as the app's events", async () => {
    const env = { ...app.toolEnv(), IDP_CLIENT_SECRET_KEYS: randomBytes(32).toString('base64url') };
    const clients = (args: string[]) => runTool('clients', args, env);
    const created = await clients(['create', '--name', 'Audited App', '--redirect-uri', 'https://audited.example/cb', '--json']);
    expect(created).toMatchObject({ code: 0 });
    const { clientId } = (JSON.parse(created.stdout) as { client: { clientId: string } }).client;
    expect(await clients(['disable', clientId])).toMatchObject({ code: 0 });
    const kept = await app.server.stores.securityEvents.forClient(clientId, { since: new Date(0), limit: 10 });
    expect(kept.map((event) => [event.type, event.actor])).toEqual([
      ['admin.client_disabled', 'admin'],
      ['admin.client_created', 'admin'],
    ]);
  });
});

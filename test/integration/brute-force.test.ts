import { describe, expect, test } from '@jest/globals';
import { createPasswordHasher } from '../../src/users/password-hasher.ts';
import { useTestApp } from '../support/app-fixture.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import { sleep } from '../support/eventually.ts';
import { newAccount, openAuthorization, RelyingParty, registerAndConsent, rpClient, signInFrom } from '../support/relying-party.ts';
import { startTestApp } from '../support/test-app.ts';
import { expectPage, type Page, UserAgent } from '../support/user-agent.ts';

/**
 * Brute-force defence against the real Redis, with short windows so that the tests can see each
 * throttle start and end. The client IP comes from X-Forwarded-For behind a trusted proxy.
 */
describe('sign-in under attack', () => {
  const client = rpClient();
  const logLines: string[] = [];
  const app = useTestApp('brute-force', {
    clients: () => [client],
    logLines,
    env: {
      TRUST_PROXY: 'true',
      IDP_LOGIN_FREE_FAILURES: '2',
      IDP_LOGIN_BASE_DELAY: '2',
      IDP_LOGIN_MAX_DELAY: '3',
      IDP_IP_MAX_FAILURES: '4',
      IDP_IP_FAILURE_WINDOW: '3',
    },
    relyingParty: client,
  });

  /** A browser at a given client IP; the first X-Forwarded-For entry is client-written and ignored. */
  const browserAt = (ip: string) => new UserAgent({ forwardedFor: `203.0.113.250, ${ip}` });
  const register = async (label: string) => {
    const account = newAccount(label);
    await registerAndConsent(new UserAgent(), await app.rp.authorize(), account);
    return account;
  };
  const attempt = async (agent: UserAgent, login: string, password: string): Promise<Page> => {
    const loginPage = await openAuthorization(agent, await app.rp.authorize());
    return expectPage(await signInFrom(agent, loginPage, login, password));
  };
  /** The page as seen from outside, without the per-request CSRF tokens and ids and the typed login. */
  const visible = (page: Page) => ({
    status: page.status,
    alert: page.$('[role=alert]').text(),
    html: page.html
      .replace(/name="csrf" value="[^"]+"/g, '')
      .replace(/\/interaction\/[^/"]+/g, '/interaction/UID')
      .replace(/(name="login" type="text" value=")[^"]*"/, '$1LOGIN"'),
  });

  test('after the free failures a login is locked for a while, answered like a wrong password, then unlocked', async () => {
    const account = await register('locked');
    const agent = browserAt('198.51.100.1');
    for (let index = 0; index < 3; index += 1) expect((await attempt(agent, account.username, 'wrong password here!')).status).toBe(401);

    // Locked now: even the right password gets the same answer as a wrong one.
    const locked = await attempt(agent, account.username, account.password);
    expect(visible(locked)).toEqual(visible(await attempt(browserAt('198.51.100.2'), account.username, 'wrong password here!')));

    await sleep(3200); // the delay (capped at 3 s here) ends: no permanent lockout
    const consent = await attempt(browserAt('198.51.100.3'), account.username, account.password);
    expect(consent.status).toBe(200);
    expect(consent.$('h1').text()).toContain('wants to access your account');
  });

  test('unknown, wrong and throttled attempts look the same from outside', async () => {
    const account = await register('same');
    const agent = browserAt('198.51.100.10');
    const wrong = await attempt(agent, account.username, 'not the right one!!');
    const unknown = await attempt(browserAt('198.51.100.11'), 'nobody-like-this', 'not the right one!!');
    await attempt(browserAt('198.51.100.12'), account.username, 'not the right one!!');
    await attempt(browserAt('198.51.100.13'), account.username, 'not the right one!!');
    const throttled = await attempt(browserAt('198.51.100.14'), account.username, account.password);
    expect(visible(unknown)).toEqual(visible(wrong));
    expect(visible(throttled)).toEqual(visible(wrong));
    expect(visible(wrong).alert).toBe('Invalid email/username or password.');
  });

  test('too many failures from one IP address are refused with a wait, for every account, until the window ends', async () => {
    const ip = '192.0.2.77';
    const agent = browserAt(ip);
    for (let index = 0; index < 4; index += 1) await attempt(agent, `sprayed-user-${index}`, 'Winter2026!Winter2026!');
    const account = await register('sprayed');
    const refused = await attempt(agent, account.username, account.password);
    expect(refused.status).toBe(429);
    expect(refused.$('[role=alert]').text()).toMatch(/^Too many failed sign-in attempts from your network\. Try again in [1-3] seconds\.$/);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-3]$/);

    // Another address is not affected.
    expect((await attempt(browserAt('192.0.2.78'), account.username, account.password)).status).toBe(200);

    await sleep(3200);
    expect((await attempt(agent, account.username, account.password)).status).toBe(200);
  });

  /** Opens `count` sign-in pages first, then posts every form at once: a burst, not a sequence. */
  const burst = async (target: { rp: RelyingParty }, ip: string, attempts: Array<{ login: string; password: string }>): Promise<Page[]> => {
    const prepared = await Promise.all(
      attempts.map(async (attempt) => {
        const agent = browserAt(ip);
        return { agent, attempt, loginPage: await openAuthorization(agent, await target.rp.authorize()) };
      }),
    );
    return Promise.all(
      prepared.map(async ({ agent, attempt, loginPage }) =>
        expectPage(await signInFrom(agent, loginPage, attempt.login, attempt.password)),
      ),
    );
  };
  const passwordChecks = (from: string) =>
    logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.event === 'login.failed' && line.ip === from)
      .length;

  test('40 guesses sent at once for one account get at most the free attempts plus one; the right password inside the burst does not sign in', async () => {
    const account = await register('burst');
    const ip = '198.51.100.90';
    const guesses = Array.from({ length: 40 }, (_, index) => ({
      login: account.username,
      password: index === 20 ? account.password : `wrong guess ${index}!!`,
    }));
    const pages = await burst({ rp: app.rp }, ip, guesses);
    // IDP_LOGIN_FREE_FAILURES=2: the first three are checked, the rest wait out the delay unchecked.
    expect(pages.every((page) => page.status === 401 || page.status === 429)).toBe(true);
    expect(pages.filter((page) => page.status === 200)).toHaveLength(0);
    expect(passwordChecks(ip)).toBeLessThanOrEqual(3);
  });

  test('one account, one counter: after the free failures by username, its email is locked too', async () => {
    const account = await register('onecounter');
    const agent = browserAt('198.51.100.95');
    for (let index = 0; index < 3; index += 1) expect((await attempt(agent, account.username, 'wrong password here!')).status).toBe(401);
    const byEmail = await attempt(browserAt('198.51.100.96'), account.email, account.password);
    expect(byEmail.status).toBe(401);
    expect(byEmail.$('[role=alert]').text()).toBe('Invalid email/username or password.');
  });

  test('with a per-address limit of 10, 40 wrong guesses sent at once get at least 25 answers of 429', async () => {
    const scoped = isolation('brute-force-ip');
    const strict = await startTestApp({
      backends: scoped,
      clients: () => [client],
      env: { TRUST_PROXY: 'true', IDP_IP_MAX_FAILURES: '10' },
    });
    try {
      const strictRp = await RelyingParty.discover(strict.url, client);
      const guesses = Array.from({ length: 40 }, (_, index) => ({ login: `sprayed-${index}`, password: 'Winter2026!Winter2026!' }));
      const pages = await burst({ rp: strictRp }, '192.0.2.99', guesses);
      const refused = pages.filter((page) => page.status === 429).length;
      process.stdout.write(`burst from one address: ${refused} of 40 answered 429\n`);
      expect(refused).toBeGreaterThanOrEqual(25);
      expect(pages.filter((page) => page.status === 401)).toHaveLength(40 - refused);
    } finally {
      await strict.close();
      await dropIsolation(scoped);
    }
  });

  test('a disabled account is told so only after the right password', async () => {
    const account = await register('disabled');
    const user = await app.server.stores.users.findByUsernameKey(account.username.toLowerCase());
    if (!user) throw new Error('user missing');
    await app.server.stores.users.setActive(user.id, false);
    const wrong = await attempt(browserAt('198.51.100.30'), account.username, 'not the right one!!');
    expect(wrong.$('[role=alert]').text()).toBe('Invalid email/username or password.');
    const right = await attempt(browserAt('198.51.100.31'), account.username, account.password);
    expect(right.status).toBe(401);
    expect(right.$('[role=alert]').text()).toBe('This account has been disabled. Contact the administrator of this service.');
  });

  test('every failed and throttled attempt is logged as a structured event, without the password', async () => {
    const events = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => String(line.event).startsWith('login.'));
    expect(events.some((event) => event.event === 'login.failed' && event.reason === 'invalid' && event.ip === '198.51.100.1')).toBe(true);
    expect(events.some((event) => event.event === 'login.throttled' && event.scope === 'account')).toBe(true);
    expect(events.some((event) => event.event === 'login.throttled' && event.scope === 'ip' && event.ip === '192.0.2.77')).toBe(true);
    const all = logLines.join('\n');
    expect(all).not.toContain('wrong password here!');
    expect(all).not.toContain('Winter2026!');
  });

  test('a password hashed with weaker parameters is re-hashed at sign-in', async () => {
    const account = newAccount('rehash');
    const weak = createPasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const stronger = await app.start({ clients: () => [client], env: { IDP_ARGON2_TIME_COST: '3' } });
    try {
      const created = await stronger.stores.users.create({
        username: account.username,
        usernameKey: account.username.toLowerCase(),
        email: account.email,
        passwordHash: await weak.hash(account.password),
      });
      const strongerRp = await RelyingParty.discover(stronger.url, client);
      const loginPage = await openAuthorization(new UserAgent(), await strongerRp.authorize());
      const agent = new UserAgent();
      const page = expectPage(
        await signInFrom(agent, await openAuthorization(agent, await strongerRp.authorize()), account.username, account.password),
      );
      expect(loginPage.status).toBe(200);
      expect(page.status).toBe(200);
      expect((await stronger.stores.users.findById(created.id))?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=3\$/);
    } finally {
      await stronger.close();
    }
  });
});

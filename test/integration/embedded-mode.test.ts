import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { freePort } from '../../scripts/lib/local-services.ts';
import { type ServerProcess, spawnServer, waitUntilReady } from '../support/server-process.ts';
import { expectPage, expectRedirect, UserAgent } from '../support/user-agent.ts';

/**
 * `npm start` with nothing configured: in-process stores, a demo client and user, and printed
 * instructions that are enough to run a whole flow. This follows those instructions literally.
 */
describe('embedded mode (npm start with no setup)', () => {
  let server: ServerProcess;
  let port: number;
  const banner = (label: string) => {
    const line = server
      .output()
      .stdout.split('\n')
      .find((text) => text.trimStart().startsWith(label));
    if (!line) throw new Error(`banner has no "${label}" line:\n${server.output().stdout}`);
    return line.slice(line.indexOf(label) + label.length).trim();
  };

  beforeAll(async () => {
    port = await freePort();
    server = spawnServer({ PORT: String(port) });
    await waitUntilReady(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('says in one line that it runs on in-process stores, and prints how to use the demo', () => {
    const { stdout } = server.output();
    expect(stdout.split('\n').filter((line) => line.startsWith('Embedded mode:'))).toHaveLength(1);
    expect(banner('Client id:')).toBe('demo-client');
    expect(banner('Redirect URI:')).toBe(`http://localhost:${port}/demo/callback`);
    expect(banner('Demo user:')).toMatch(/^demo \(or demo@example\.com\) \/ \S{15,}$/);
  });

  test('the printed authorization URL, demo user, secret and verifier complete a code flow', async () => {
    const lines = server.output().stdout.split('\n');
    const authorizationUrl = lines[lines.findIndex((line) => line.includes('Open this URL')) + 1]?.trim() ?? '';
    const [, password] = banner('Demo user:').split(' / ');
    const agent = new UserAgent();
    const redirectUri = banner('Redirect URI:');

    const loginPage = expectPage(await agent.get(authorizationUrl, redirectUri));
    const consentPage = expectPage(await agent.submit(loginPage, 'form[action$="/login"]', { login: 'demo', password: password ?? '' }));
    const callback = expectRedirect(await agent.submit(consentPage, 'form[action$="/confirm"]', {}, redirectUri));

    // The demo callback page shows the code and the token request to make.
    const callbackPage = expectPage(await agent.get(callback));
    expect(callbackPage.$('pre.code').text()).toContain(callback.searchParams.get('code') ?? 'missing');

    const response = await fetch(new URL('/token', `http://localhost:${port}`), {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`demo-client:${banner('Client secret:')}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: redirectUri,
        code_verifier: banner('PKCE verifier:'),
      }),
    });
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as { access_token: string; id_token: string; refresh_token: string };
    expect(tokens.id_token.split('.')).toHaveLength(3);
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const userinfo = await fetch(new URL('/me', `http://localhost:${port}`), {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await userinfo.json()).toMatchObject({ preferred_username: 'demo', email: 'demo@example.com' });
  });

  test('health and readiness answer; SIGTERM stops it cleanly', async () => {
    expect(await (await fetch(`http://localhost:${port}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`http://localhost:${port}/readyz`)).json()).toEqual({ status: 'ready' });
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.output().stdout).toContain('"msg":"stopped"');
    expect(server.output().stderr).toBe('');
  });
});

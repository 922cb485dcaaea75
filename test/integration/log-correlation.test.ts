import { describe, expect, test } from '@jest/globals';
import { useTestApp } from '../support/app-fixture.ts';
import { allowConsent, newAccount, openAuthorization, registerAndConsent, rpClient, signInFrom } from '../support/relying-party.ts';
import { expectPage, UserAgent } from '../support/user-agent.ts';

interface LogLine {
  msg: string;
  event?: string;
  path?: string;
  status?: number;
  requestId?: string;
  clientId?: string;
  accountId?: string;
}

/** Every line written while a request is served carries its request id, and its client and account once known. */
describe('log lines you can correlate', () => {
  const client = rpClient();
  const logLines: string[] = [];
  const app = useTestApp('log-correlation', { clients: () => [client], relyingParty: client, logLines });
  const lines = () => logLines.map((line) => JSON.parse(line) as LogLine);

  test('a failed and a successful sign-in and a code exchange: each line names its request, client and account', async () => {
    const account = newAccount('corr');
    const first = await app.rp.authorize();
    const { claims } = await app.rp.exchange(first, await registerAndConsent(new UserAgent(), first, account));
    const accountId = String(claims()?.sub);
    const from = logLines.length;

    const agent = new UserAgent();
    const authorization = await app.rp.authorize();
    const loginPage = await openAuthorization(agent, authorization);
    expect(expectPage(await signInFrom(agent, loginPage, account.username, 'not the password at all')).status).toBe(401);
    const consent = expectPage(await signInFrom(agent, loginPage, account.username, account.password));
    await app.rp.exchange(authorization, await allowConsent(agent, consent));
    const written = lines().slice(from);

    // Every line of this flow was written inside a request, so each carries a request id.
    expect(written.length).toBeGreaterThan(5);
    for (const line of written)
      expect({ msg: line.msg, requestId: line.requestId }).toEqual({ msg: line.msg, requestId: expect.any(String) });

    const succeeded = written.find((line) => line.event === 'login.succeeded');
    expect(succeeded).toMatchObject({ clientId: client.client_id, accountId });
    const failed = written.find((line) => line.event === 'login.failed');
    expect(failed).toMatchObject({ clientId: client.client_id });
    // The access line of the sign-in names the same request as its event line.
    const loginRequests = written.filter((line) => line.msg === 'request' && line.path?.endsWith('/login') && line.status === 303);
    expect(loginRequests.map((line) => line.requestId)).toContain(succeeded?.requestId);
    // oidc-provider's own requests: the token request names the app and the account it issued for.
    const token = written.find((line) => line.msg === 'request' && line.path === '/token');
    expect(token).toMatchObject({ status: 200, clientId: client.client_id, accountId });
  });

  test('an X-Request-Id sent by a proxy is the id of the request and of its lines', async () => {
    const from = logLines.length;
    const response = await fetch(`${app.server.url}/token`, {
      method: 'POST',
      headers: { 'X-Request-Id': 'proxy-assigned-42', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'nope',
        client_id: client.client_id,
        client_secret: String(client.client_secret),
      }),
    });
    await response.arrayBuffer();
    expect(response.headers.get('x-request-id')).toBe('proxy-assigned-42');
    const written = lines().slice(from);
    const refused = written.find((line) => line.event === 'grant.error');
    expect(refused).toMatchObject({ requestId: 'proxy-assigned-42', clientId: client.client_id });
    expect(written.find((line) => line.msg === 'request')).toMatchObject({ requestId: 'proxy-assigned-42', status: 400 });
  });
});

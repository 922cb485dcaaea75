import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { dropIsolation, isolation } from '../support/backends.ts';
import { newAccount, registerAndConsent, RelyingParty, RP_POST_LOGOUT_URI, rpClient } from '../support/relying-party.ts';
import { startTestApp, type RunningApp } from '../support/test-app.ts';
import { expectPage, expectRedirect, UserAgent } from '../support/user-agent.ts';

/** A real HTTP receiver for logout tokens, on loopback. */
async function startReceiver(): Promise<{ url: string; host: string; tokens: string[]; close(): Promise<void> }> {
  const tokens: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token');
      if (req.method === 'POST' && token) tokens.push(token);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/backchannel-logout`, host: `127.0.0.1:${port}`, tokens, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('back-channel logout', () => {
  const scope = isolation('backchannel');
  let allowed: Awaited<ReturnType<typeof startReceiver>>;
  let refused: Awaited<ReturnType<typeof startReceiver>>;
  let server: RunningApp;
  const trusted = rpClient({ client_id: 'bcl-trusted', backchannel_logout_session_required: true });
  const untrusted = rpClient({ client_id: 'bcl-untrusted', backchannel_logout_session_required: true });

  beforeAll(async () => {
    allowed = await startReceiver();
    refused = await startReceiver();
    trusted.backchannel_logout_uri = allowed.url;
    untrusted.backchannel_logout_uri = refused.url;
    server = await startTestApp({ backends: scope, clients: () => [trusted, untrusted], env: { IDP_OUTBOUND_PRIVATE_HOSTS: allowed.host } });
  });
  afterAll(async () => {
    await server?.close();
    await allowed?.close();
    await refused?.close();
    await dropIsolation(scope);
  });

  const logOut = async (client: typeof trusted) => {
    const rp = await RelyingParty.discover(server.url, client);
    const agent = new UserAgent();
    const authorization = await rp.authorize();
    const tokens = await rp.exchange(authorization, await registerAndConsent(agent, authorization, newAccount('bcl')));
    const page = expectPage(await agent.get(rp.endSessionUrl(tokens.id_token ?? '', 'x'), RP_POST_LOGOUT_URI));
    expectRedirect(await agent.submit(page, 'form#op\\.logoutForm', { logout: 'yes' }, RP_POST_LOGOUT_URI));
    return tokens;
  };
  const waitFor = async (tokens: string[], count: number) => {
    for (let attempt = 0; attempt < 40 && tokens.length < count; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  };

  test('logout sends the app a signed logout token naming the session', async () => {
    const tokens = await logOut(trusted);
    await waitFor(allowed.tokens, 1);
    expect(allowed.tokens).toHaveLength(1);
    const { payload, protectedHeader } = await jwtVerify(allowed.tokens[0] ?? '', createRemoteJWKSet(new URL('/jwks', server.url)), {
      issuer: server.url,
      audience: trusted.client_id,
      typ: 'logout+jwt',
    });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(payload.sid).toEqual(expect.any(String));
    expect(payload.sid).toBe(tokens.claims()?.sid);
    expect(payload.sub).toBe(tokens.claims()?.sub);
    expect(payload.nonce).toBeUndefined();
  });

  test('a receiver on a private address that is not listed is not called (SSRF protection)', async () => {
    await logOut(untrusted);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(refused.tokens).toHaveLength(0);
  });
});

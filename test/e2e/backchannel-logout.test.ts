import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { useTestApp } from '../support/app-fixture.ts';
import { eventually } from '../support/eventually.ts';
import { type LogoutReceiver, startLogoutReceiver } from '../support/logout-receiver.ts';
import { newAccount, RelyingParty, RP_POST_LOGOUT_URI, registerAndConsent, rpClient } from '../support/relying-party.ts';
import { expectPage, expectRedirect, UserAgent } from '../support/user-agent.ts';

describe('back-channel logout', () => {
  let allowed: LogoutReceiver;
  let refused: LogoutReceiver;
  const trusted = rpClient({ client_id: 'bcl-trusted', backchannel_logout_session_required: true });
  const untrusted = rpClient({ client_id: 'bcl-untrusted', backchannel_logout_session_required: true });

  beforeAll(async () => {
    allowed = await startLogoutReceiver();
    refused = await startLogoutReceiver();
    trusted.backchannel_logout_uri = allowed.url;
    untrusted.backchannel_logout_uri = refused.url;
  });
  const app = useTestApp('backchannel', () => ({ clients: () => [trusted, untrusted], env: { IDP_OUTBOUND_PRIVATE_HOSTS: allowed.host } }));
  afterAll(async () => {
    await allowed?.close();
    await refused?.close();
  });

  const logOut = async (client: typeof trusted) => {
    const rp = await RelyingParty.discover(app.server.url, client);
    const agent = new UserAgent();
    const authorization = await rp.authorize();
    const tokens = await rp.exchange(authorization, await registerAndConsent(agent, authorization, newAccount('bcl')));
    const page = expectPage(await agent.get(rp.endSessionUrl(tokens.id_token ?? '', 'x'), RP_POST_LOGOUT_URI));
    expectRedirect(await agent.submit(page, 'form#op\\.logoutForm', { logout: 'yes' }, RP_POST_LOGOUT_URI));
    return tokens;
  };

  test('logout sends the app a signed logout token naming the session', async () => {
    const tokens = await logOut(trusted);
    await allowed.waitFor(1);
    expect(allowed.tokens).toHaveLength(1);
    const { payload, protectedHeader } = await jwtVerify(allowed.tokens[0] ?? '', createRemoteJWKSet(new URL('/jwks', app.server.url)), {
      issuer: app.server.url,
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
    // The server's own report that the call failed, so the receiver's silence is not a call still on its way.
    const failedFor: string[] = [];
    const onFailure = (_ctx: unknown, _error: Error, client: { clientId: string }) => failedFor.push(client.clientId);
    app.server.provider.on('backchannel.error', onFailure);
    try {
      await logOut(untrusted);
      expect(
        await eventually(
          async () => failedFor,
          (clients) => clients.includes(untrusted.client_id),
          2000,
        ),
      ).toContain(untrusted.client_id);
    } finally {
      app.server.provider.off('backchannel.error', onFailure);
    }
    expect(refused.tokens).toHaveLength(0);
  });
});

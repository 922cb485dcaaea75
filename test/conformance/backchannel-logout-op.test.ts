import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { type LogoutReceiver, startLogoutReceiver } from '../support/logout-receiver.ts';
import { expectRedirect } from '../support/user-agent.ts';
import { confirmLogout, endSession, expectNoRedirectToClient, expectSession, signedIn } from './support/logout.ts';
import { type ConformanceRp, OpUnderTest, POST_LOGOUT_REDIRECT_URI, planClient } from './support/op-under-test.ts';

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * The Back-Channel Logout OP plan (`oidcc-backchannel-rp-initiated-logout-certification-test-plan`),
 * with a real HTTP receiver standing in for the client's backchannel_logout_uri.
 */
describe('oidcc-backchannel-rp-initiated-logout-certification-test-plan', () => {
  let receiver: LogoutReceiver;
  let op: OpUnderTest;
  let rp: ConformanceRp;

  beforeAll(async () => {
    receiver = await startLogoutReceiver();
    const client = planClient('client', 'client_secret_basic', {
      backchannel_logout_uri: receiver.url,
      backchannel_logout_session_required: true,
    });
    op = await OpUnderTest.start('conformance-bcl', [client], { IDP_OUTBOUND_PRIVATE_HOSTS: receiver.host });
    rp = await op.relyingParty(client);
  });
  afterAll(async () => {
    await op?.close();
    await receiver?.close();
  });

  test('oidcc-backchannel-logout-discovery-endpoint-verification', () => {
    expect(rp.discovery.backchannel_logout_supported).toBe(true);
    expect(rp.discovery.backchannel_logout_session_supported).toBe(true);
    expect(rp.discovery.end_session_endpoint).toBe(`${op.issuer}/session/end`);
  });

  test('oidcc-backchannel-rp-initiated-logout', async () => {
    const { browser, idToken, sid } = await signedIn(op, rp);
    const page = expectNoRedirectToClient(
      await endSession(rp, browser, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI, state: 'bcl' }),
    );
    const back = expectRedirect(await confirmLogout(browser, page));
    expect(back.origin + back.pathname).toBe(POST_LOGOUT_REDIRECT_URI);
    expect(back.searchParams.get('state')).toBe('bcl');

    await receiver.waitFor(1);
    expect(receiver.tokens).toHaveLength(1);
    expect(receiver.requests[0]).toMatchObject({
      method: 'POST',
      contentType: expect.stringMatching(/^application\/x-www-form-urlencoded/),
    });
    expect(Object.keys(receiver.requests[0]?.fields ?? {})).toEqual(['logout_token']);

    const token = receiver.tokens[0] ?? '';
    expect(decodeProtectedHeader(token).typ).toBe('logout+jwt');
    const jwks = (await op.fetchJson(String(rp.discovery.jwks_uri))) as JSONWebKeySet;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: op.issuer, audience: 'client', typ: 'logout+jwt' });
    const now = Math.floor(Date.now() / 1000);
    expect(payload.iat).toBeLessThanOrEqual(now + 5);
    expect(payload.iat).toBeGreaterThan(now - 86_400);
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
    expect(payload.nonce).toBeUndefined();
    expect(payload.sub).toBe(op.user.id);
    expect(payload.sid).toBe(sid);

    await expectSession(rp, browser, false);
  });
});

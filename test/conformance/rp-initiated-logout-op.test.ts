import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { expectRedirect } from '../support/user-agent.ts';
import {
  confirmLogout,
  endSession,
  expectNoRedirectToClient,
  expectSession,
  foreignCopy,
  signedIn,
  unsignedCopy,
} from './support/logout.ts';
import { type ConformanceRp, OpUnderTest, POST_LOGOUT_REDIRECT_URI, planClient } from './support/op-under-test.ts';

/**
 * The RP-Initiated Logout OP plan (`oidcc-rp-initiated-logout-certification-test-plan`). Where the
 * official module accepts "an error page or a logout confirmation", the assertion is that the
 * browser is not sent to the client, and (for errors) that the session survived a request that could
 * have been forged.
 */
describe('oidcc-rp-initiated-logout-certification-test-plan', () => {
  const client = planClient('client');
  let op: OpUnderTest;
  let rp: ConformanceRp;

  beforeAll(async () => {
    op = await OpUnderTest.start('conformance-rpl', [client]);
    rp = await op.relyingParty(client);
  });
  afterAll(async () => {
    await op?.close();
  });

  test('oidcc-rp-initiated-logout-discovery-endpoint-verification', () => {
    expect(rp.discovery.end_session_endpoint).toBe(`${op.issuer}/session/end`);
  });

  test('oidcc-rp-initiated-logout', async () => {
    const { browser, idToken } = await signedIn(op, rp);
    const page = expectNoRedirectToClient(
      await endSession(rp, browser, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI, state: 'st8' }),
    );
    const back = expectRedirect(await confirmLogout(browser, page));
    expect(back.origin + back.pathname).toBe(POST_LOGOUT_REDIRECT_URI);
    expect(back.searchParams.get('state')).toBe('st8');
    await expectSession(rp, browser, false);
  });

  test('oidcc-rp-initiated-logout-bad-post-logout-redirect-uri', async () => {
    const { browser, idToken } = await signedIn(op, rp);
    const page = expectNoRedirectToClient(
      await endSession(rp, browser, {
        id_token_hint: idToken,
        post_logout_redirect_uri: 'https://rp.example.test/not_registered',
        state: 's',
      }),
    );
    expect(page.status).toBe(400);
    expect(page.$('main').text()).toContain('post_logout_redirect_uri');
    await expectSession(rp, browser, true);
  });

  // The hint turned into alg none, or signed by a key that is not ours (as the suite signs with its own).
  test.each([
    ['oidcc-rp-initiated-logout-modified-id-token-hint', unsignedCopy],
    ['oidcc-rp-initiated-logout-bad-id-token-hint', foreignCopy],
  ])('%s', async (_module, tamper: (idToken: string) => string | Promise<string>) => {
    const { browser, idToken } = await signedIn(op, rp);
    const page = expectNoRedirectToClient(
      await endSession(rp, browser, {
        id_token_hint: await tamper(idToken),
        post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
        state: 's',
      }),
    );
    expect(page.status).toBe(400);
    expect(page.$('main').text()).toContain('id_token_hint');
    await expectSession(rp, browser, true);
  });

  test('oidcc-rp-initiated-logout-no-id-token-hint', async () => {
    const { browser } = await signedIn(op, rp);
    // Nothing says which client sent the person, so the redirect URI is not used: the person is
    // asked to confirm, and confirming ends on our signed-out page, not at the client.
    const confirm = expectNoRedirectToClient(
      await endSession(rp, browser, { post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI, state: 's' }),
    );
    expect(confirm.$('form#op\\.logoutForm').length).toBe(1);
    const done = expectNoRedirectToClient(await confirmLogout(browser, confirm));
    expect(done.status).toBe(200);
    await expectSession(rp, browser, false);
  });

  test('oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri', async () => {
    const { browser, idToken } = await signedIn(op, rp);
    const page = expectNoRedirectToClient(
      await endSession(rp, browser, {
        id_token_hint: idToken,
        post_logout_redirect_uri: `${POST_LOGOUT_REDIRECT_URI}?foo=bar`,
        state: 's',
      }),
    );
    expect(page.status).toBe(400);
    await expectSession(rp, browser, true);
  });

  test.each([
    ['oidcc-rp-initiated-logout-no-params', {}],
    ['oidcc-rp-initiated-logout-only-state', { state: 'only' }],
  ])('%s', async (_module, parameters: Record<string, string>) => {
    const { browser } = await signedIn(op, rp);
    // Without a verified hint the person confirms (ASVS 5.0 10.6.2), then sees our signed-out page.
    const confirm = expectNoRedirectToClient(await endSession(rp, browser, parameters));
    expect(confirm.$('form#op\\.logoutForm').length).toBe(1);
    const done = expectNoRedirectToClient(await confirmLogout(browser, confirm));
    expect(done.status).toBe(200);
    expect(done.$('form#op\\.logoutForm').length).toBe(0);
    await expectSession(rp, browser, false);
  });

  test('oidcc-rp-initiated-logout-no-post-logout-redirect-uri', async () => {
    const { browser, idToken } = await signedIn(op, rp);
    const confirm = expectNoRedirectToClient(await endSession(rp, browser, { id_token_hint: idToken, state: 's' }));
    const done = expectNoRedirectToClient(await confirmLogout(browser, confirm));
    expect(done.status).toBe(200);
    expect(done.$('form#op\\.logoutForm').length).toBe(0);
    await expectSession(rp, browser, false);
  });

  test('oidcc-rp-initiated-logout-no-state', async () => {
    const { browser, idToken } = await signedIn(op, rp);
    const page = expectNoRedirectToClient(
      await endSession(rp, browser, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI }),
    );
    const back = expectRedirect(await confirmLogout(browser, page));
    expect(back.toString()).toBe(POST_LOGOUT_REDIRECT_URI);
    expect(back.searchParams.has('state')).toBe(false);
    await expectSession(rp, browser, false);
  });
});

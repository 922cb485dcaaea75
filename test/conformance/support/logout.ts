import { expect } from '@jest/globals';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { expectPage, type FollowResult, type Page, type UserAgent } from '../../support/user-agent.ts';
import { type ConformanceRp, type OpUnderTest, POST_LOGOUT_REDIRECT_URI, REDIRECT_URI } from './op-under-test.ts';

/** What every RP-initiated logout module starts with: a signed-in browser and its ID token. */
export async function signedIn(op: OpUnderTest, rp: ConformanceRp): Promise<{ browser: UserAgent; idToken: string; sid: unknown }> {
  const browser = op.browser();
  const request = await rp.request();
  const { callback } = await op.authorize(browser, request);
  const tokens = await rp.exchange(request, callback);
  return { browser, idToken: tokens.id_token ?? '', sid: tokens.claims()?.sid };
}

/** The end_session_endpoint with exactly these parameters, followed until a page or the client. */
export async function endSession(rp: ConformanceRp, browser: UserAgent, parameters: Record<string, string>): Promise<FollowResult> {
  const url = new URL(String(rp.discovery.end_session_endpoint));
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  // A browser's navigation asks for HTML; oidc-provider answers errors in the format asked for.
  return browser.follow(url, { headers: { Accept: 'text/html,application/xhtml+xml' } }, 'https://rp.example.test/');
}

/** The person confirms on our sign-out page (the page does this itself with JavaScript for a verified hint). */
export function confirmLogout(browser: UserAgent, page: Page): Promise<FollowResult> {
  return browser.submit(page, 'form#op\\.logoutForm', { logout: 'yes' }, 'https://rp.example.test/');
}

/** The module's closing check: prompt=none now fails, so the session really ended (or, `alive`, did not). */
export async function expectSession(rp: ConformanceRp, browser: UserAgent, alive: boolean): Promise<void> {
  const request = await rp.request({ prompt: 'none' });
  const answer = await browser.get(request.url, REDIRECT_URI);
  const callback = answer.redirectedTo;
  if (!callback) throw new Error('prompt=none did not return to the client');
  if (alive) expect(callback.searchParams.get('code')).toEqual(expect.any(String));
  else expect(callback.searchParams.get('error')).toBe('login_required');
}

/** A page of ours, never a redirect to the client: an error, or the confirmation. */
export function expectNoRedirectToClient(result: FollowResult): Page {
  expect(result.redirectedTo).toBeUndefined();
  expect(result.hops.some((hop) => hop.startsWith(POST_LOGOUT_REDIRECT_URI))).toBe(false);
  return expectPage(result);
}

/** The ID token with its header changed to alg none and its signature removed. */
export function unsignedCopy(idToken: string): string {
  const [, payload] = idToken.split('.');
  return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
}

/** The same claims, signed by a key that is not ours (as the suite signs with its own). */
export async function foreignCopy(idToken: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(decodeJwt(idToken)).setProtectedHeader({ alg: 'RS256', kid: 'not-ours' }).sign(privateKey);
}

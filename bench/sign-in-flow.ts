import { createHash, randomBytes } from 'node:crypto';
import { expectPage, expectRedirect, type FollowResult, type Page, UserAgent } from '../test/support/user-agent.ts';
import { type BenchClient, type BenchUser, basicAuth, REDIRECT_URI } from './fixtures.ts';

/**
 * Where a flow goes: the https issuer named in URLs and cookies. The agent plays the
 * TLS-terminating proxy in front of it, sending to the same host and port over plain http.
 */
export interface Target {
  issuer: string;
}

export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

export interface FlowResult {
  tokens: TokenSet;
  /** HTTP requests the flow made, the code exchange included. */
  requests: number;
}

/**
 * One browser-less sign-in, as a person's browser and the app's back end would do it: the
 * authorization request, the login form (with the CSRF token the page carries), the consent form,
 * the redirect back with the code, and the code exchange with PKCE. Works against our pages and
 * against oidc-provider's development pages alike: both put the form to submit first on the page.
 * A fresh agent (cookie jar) per flow, so every flow is a new browser.
 */
export async function signIn(target: Target, client: BenchClient, user: BenchUser): Promise<FlowResult> {
  const browser = new CountingAgent({ behindTlsProxy: true });
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorization = new URL('/auth', target.issuer);
  authorization.search = new URLSearchParams({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email offline_access',
    prompt: 'consent',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    nonce: randomBytes(16).toString('base64url'),
  }).toString();

  const loginPage = expectOk(await browser.get(authorization, REDIRECT_URI));
  const consentPage = expectOk(await browser.submit(loginPage, 'form', { login: user.username, password: user.password }, REDIRECT_URI));
  const callback = expectRedirect(await browser.submit(consentPage, 'form', {}, REDIRECT_URI));
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state)
    throw new Error(`no code for this state in ${callback.toString().slice(0, 200)}`);

  const tokens = await browser.request(new URL('/token', target.issuer), {
    method: 'POST',
    headers: { Authorization: basicAuth(client) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  if (tokens.status !== 200) throw new Error(`code exchange answered ${tokens.status}: ${await tokens.text()}`);
  const body = (await tokens.json()) as TokenSet;
  if (!body.access_token || !body.id_token) throw new Error('code exchange returned no access or ID token');
  return { tokens: body, requests: browser.requests };
}

/**
 * The tests' user agent, counting the HTTP requests it sends. It reads each redirect's body at
 * once, so that connection is free for the next request instead of waiting for the garbage collector
 * (the agent's redirect walk reads only the Location).
 */
class CountingAgent extends UserAgent {
  requests = 0;

  override async request(url: string | URL, init?: RequestInit): Promise<Response> {
    this.requests += 1;
    const response = await super.request(url, init);
    if (response.status < 300 || response.status >= 400) return response;
    const body = await response.arrayBuffer();
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }
}

/** The page the redirects led to, which must have answered 200. */
function expectOk(result: FollowResult): Page {
  const page = expectPage(result);
  if (page.status !== 200) throw new Error(`${new URL(page.url).pathname} answered ${page.status}`);
  return page;
}

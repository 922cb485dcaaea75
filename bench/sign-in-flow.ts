import { createHash, randomBytes } from 'node:crypto';
import { CookieJar } from 'tough-cookie';
import { basicAuth, REDIRECT_URI, type BenchClient, type BenchUser } from './fixtures.ts';

/** Where a flow goes: the issuer named in URLs and cookies, and the plain-http address behind it. */
export interface Target {
  issuer: string;
  wireUrl: string;
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
 * A fresh cookie jar per flow, so every flow is a new browser.
 */
export async function signIn(target: Target, client: BenchClient, user: BenchUser): Promise<FlowResult> {
  const browser = new Browser(target);
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

  const loginPage = await browser.open(authorization);
  const consentPage = await browser.submitFirstForm(loginPage, { login: user.username, password: user.password });
  const callback = await browser.submitFirstForm(consentPage, {});
  if (!(callback instanceof URL)) throw new Error(`expected the redirect back to the app after consent, got a page:\n${callback.html.slice(0, 300)}`);
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state) throw new Error(`no code for this state in ${callback.toString().slice(0, 200)}`);

  const tokens = await browser.post(new URL('/token', target.issuer), {
    headers: { Authorization: basicAuth(client) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  if (tokens.status !== 200) throw new Error(`code exchange answered ${tokens.status}: ${await tokens.text()}`);
  const body = (await tokens.json()) as TokenSet;
  if (!body.access_token || !body.id_token) throw new Error('code exchange returned no access or ID token');
  return { tokens: body, requests: browser.requests };
}

interface Page {
  url: URL;
  html: string;
}

interface RequestSpec {
  method: string;
  headers: Record<string, string>;
  body?: URLSearchParams;
}

/** The little of a browser a sign-in needs: cookies (path-scoped), redirects, and forms. */
class Browser {
  readonly jar = new CookieJar();
  requests = 0;
  readonly #target: Target;

  constructor(target: Target) {
    this.#target = target;
  }

  async post(url: URL, init: { headers?: Record<string, string>; body: URLSearchParams }): Promise<Response> {
    return this.#send(url, { method: 'POST', headers: init.headers ?? {}, body: init.body });
  }

  /** Follows redirects to a page; a redirect to the app's redirect URI ends the walk there. */
  async open(url: URL, init: RequestSpec = { method: 'GET', headers: {} }): Promise<Page | URL> {
    let current = url;
    let response = await this.#send(current, init);
    for (let hops = 0; hops < 10; hops += 1) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        if (response.status !== 200) throw new Error(`${current.pathname} answered ${response.status}`);
        return { url: current, html: await response.text() };
      }
      await response.arrayBuffer();
      current = new URL(location, current);
      if (current.toString().startsWith(REDIRECT_URI)) return current;
      response = await this.#send(current, { method: 'GET', headers: {} });
    }
    throw new Error(`too many redirects from ${url.pathname}`);
  }

  /** Submits the page's first POST form with its hidden fields (the CSRF token) plus `fields`. */
  async submitFirstForm(page: Page | URL, fields: Record<string, string>): Promise<Page | URL> {
    if (page instanceof URL) throw new Error(`expected a page, got a redirect to ${page.origin}${page.pathname}`);
    const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(page.html);
    const action = form?.[1] ? attribute(form[1], 'action') : undefined;
    if (!form || !action) throw new Error(`no form on ${page.url.pathname}:\n${page.html.slice(0, 300)}`);
    const body = new URLSearchParams();
    for (const [input] of (form[2] ?? '').matchAll(/<input\b[^>]*>/gi)) {
      const name = attribute(input, 'name');
      if (name && attribute(input, 'type') === 'hidden') body.set(name, attribute(input, 'value') ?? '');
    }
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    return this.open(new URL(action, page.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
      body,
    });
  }

  /** Sends to the plain-http address as a TLS-terminating proxy would, keeping cookies for the https site. */
  async #send(url: URL, init: RequestSpec): Promise<Response> {
    const target = url.toString();
    const headers = new Headers(init.headers);
    const cookie = await this.jar.getCookieString(target);
    if (cookie) headers.set('Cookie', cookie);
    headers.set('X-Forwarded-Proto', 'https');
    const wire = new URL(url.pathname + url.search, this.#target.wireUrl);
    this.requests += 1;
    const response = await fetch(wire, { method: init.method, headers, body: init.body ?? null, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) await this.jar.setCookie(setCookie, target);
    return response;
  }
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag);
  return match?.[1]?.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import * as oidc from 'openid-client';
import { dropIsolation, type Isolation, isolation } from '../../support/backends.ts';
import {
  type AuthorizationRequest,
  type AuthorizationResult,
  authorizeAs,
  RelyingParty,
  RP_REDIRECT_URI,
  rpClient,
} from '../../support/relying-party.ts';
import { type RunningApp, startTestApp } from '../../support/test-app.ts';
import { UserAgent } from '../../support/user-agent.ts';

/**
 * The OpenID Provider under test, set up the way the OpenID Foundation's conformance suite expects
 * one: an https issuer (here behind a TLS-terminating proxy, as in production), static clients
 * `client` and `client2` with client_secret_basic, one with client_secret_post, redirect URIs ending
 * in /callback and post-logout redirect URIs ending in /post_logout_redirect, and a test user with
 * every profile claim we hold.
 */
export const REDIRECT_URI = RP_REDIRECT_URI;
export const POST_LOGOUT_REDIRECT_URI = 'https://rp.example.test/post_logout_redirect';

export type ClientAuth = 'client_secret_basic' | 'client_secret_post';

export function planClient(
  clientId: string,
  auth: ClientAuth = 'client_secret_basic',
  overrides: Partial<ClientMetadata> = {},
): ClientMetadata {
  return rpClient({
    client_id: clientId,
    client_secret: randomBytes(32).toString('base64url'),
    client_name: `Conformance ${clientId}`,
    post_logout_redirect_uris: [POST_LOGOUT_REDIRECT_URI],
    token_endpoint_auth_method: auth,
    ...overrides,
  });
}

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  name: string;
}

export type { AuthorizationRequest, AuthorizationResult };

/**
 * One relying party: the shared one (openid-client with the client's registered authentication
 * method), plus what the conformance modules do by hand.
 */
export class ConformanceRp {
  readonly party: RelyingParty;
  readonly metadata: ClientMetadata;
  private readonly fetchJson: (url: string) => Promise<unknown>;

  constructor(party: RelyingParty, metadata: ClientMetadata, fetchJson: (url: string) => Promise<unknown>) {
    this.party = party;
    this.metadata = metadata;
    this.fetchJson = fetchJson;
  }

  get config(): oidc.Configuration {
    return this.party.config;
  }

  get discovery(): oidc.ServerMetadata {
    return this.config.serverMetadata();
  }

  /**
   * An authorization request built by hand from the discovered endpoint, so a module can leave out
   * or reorder parameters as the official one does. PKCE S256 is always added (we require it).
   * `undefined` removes a default (e.g. `{ nonce: undefined }`).
   */
  async request(parameters: Record<string, string | undefined> = {}): Promise<AuthorizationRequest> {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const defaults: Record<string, string | undefined> = {
      client_id: String(this.metadata.client_id),
      response_type: 'code',
      scope: 'openid',
      redirect_uri: REDIRECT_URI,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    };
    const merged = { ...defaults, ...parameters };
    const url = new URL(String(this.discovery.authorization_endpoint));
    for (const [name, value] of Object.entries(merged)) if (value !== undefined) url.searchParams.set(name, value);
    return { url, state: merged.state, nonce: merged.nonce, codeVerifier };
  }

  exchange(request: AuthorizationRequest, callback: URL) {
    return this.party.exchange(request, callback);
  }

  /** Verifies an ID token's signature and standard claims against the published JWKS. */
  async verifyIdToken(idToken: string): Promise<{ payload: JWTPayload; header: { alg: string; kid?: string } }> {
    const jwks = (await this.fetchJson(String(this.discovery.jwks_uri))) as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
      issuer: this.discovery.issuer,
      audience: String(this.metadata.client_id),
    });
    return { payload, header: { alg: protectedHeader.alg, kid: protectedHeader.kid } };
  }
}

/**
 * The provider, started on the real Redis and MongoDB-wire servers in a prefix/database of its own.
 */
export class OpUnderTest {
  readonly server: RunningApp;
  readonly user: TestUser;
  private readonly scope: Isolation;

  private constructor(server: RunningApp, user: TestUser, scope: Isolation) {
    this.server = server;
    this.user = user;
    this.scope = scope;
  }

  static async start(label: string, clients: ClientMetadata[], env: Record<string, string> = {}): Promise<OpUnderTest> {
    const scope = isolation(label);
    const server = await startTestApp({ backends: scope, clients: () => clients, https: true, env: { TRUST_PROXY: 'true', ...env } });
    const suffix = randomBytes(3).toString('hex');
    const user = {
      username: `tester${suffix}`,
      email: `tester${suffix}@example.com`,
      password: `conformance passphrase ${suffix}`,
      name: 'Ada Conformance',
    };
    const registered = await server.users.userService.register({ ...user, confirmPassword: user.password });
    if (!registered.ok) throw new Error(`test user refused: ${JSON.stringify(registered.errors)}`);
    await server.stores.users.setName(registered.user.id, user.name);
    await server.stores.users.markEmailVerified(registered.user.id, user.email);
    return new OpUnderTest(server, { ...user, id: registered.user.id }, scope);
  }

  get issuer(): string {
    return this.server.config.issuer;
  }

  /** A new browser (its own cookie jar) reaching the https issuer through the TLS proxy. */
  browser(): UserAgent {
    return new UserAgent({ behindTlsProxy: true });
  }

  /** Back-channel HTTP for the relying party: no cookies shared with any browser. */
  readonly fetch: oidc.CustomFetch = (url, options) => this.browser().request(url, options as unknown as RequestInit);

  async fetchJson(url: string): Promise<unknown> {
    const response = await this.browser().request(url);
    if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
    return response.json();
  }

  async relyingParty(metadata: ClientMetadata): Promise<ConformanceRp> {
    const secret = String(metadata.client_secret);
    const auth =
      metadata.token_endpoint_auth_method === 'client_secret_post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
    const party = await RelyingParty.discover(this.issuer, metadata, { fetch: this.fetch, auth });
    return new ConformanceRp(party, metadata, (url) => this.fetchJson(url));
  }

  /**
   * Plays the browser for one authorization request: signs the test user in when the provider asks,
   * allows consent when asked, and returns where the browser was sent back to the client.
   */
  authorize(browser: UserAgent, request: AuthorizationRequest, init: RequestInit = {}): Promise<AuthorizationResult> {
    return authorizeAs(browser, request.url, { login: this.user.username, password: this.user.password }, init);
  }

  async close(): Promise<void> {
    await this.server.close();
    await dropIsolation(this.scope);
  }
}

/** The ID token claims checks every OIDCC module makes (OpenID Connect Core §3.1.3.7). */
export function expectValidIdTokenClaims(payload: JWTPayload, issuer: string, clientId: string, nonce: string | undefined): void {
  const now = Math.floor(Date.now() / 1000);
  if (payload.iss !== issuer) throw new Error(`iss ${payload.iss} is not ${issuer}`);
  const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audience.includes(clientId)) throw new Error(`aud ${JSON.stringify(payload.aud)} lacks ${clientId}`);
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new Error('sub is missing');
  if (typeof payload.exp !== 'number' || payload.exp <= now) throw new Error(`exp ${payload.exp} is not in the future`);
  if (typeof payload.iat !== 'number' || Math.abs(payload.iat - now) > 300)
    throw new Error(`iat ${payload.iat} is more than 5 minutes off`);
  const authTime = payload.auth_time;
  if (authTime !== undefined && (typeof authTime !== 'number' || authTime > now + 5))
    throw new Error(`auth_time ${authTime} is in the future`);
  if (payload.acr !== undefined && (typeof payload.acr !== 'string' || payload.acr.length === 0))
    throw new Error('acr is present but empty');
  if (payload.nonce !== nonce) throw new Error(`nonce ${payload.nonce} is not ${nonce}`);
}

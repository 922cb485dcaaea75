import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Someone with an account at the GitHub-shaped upstream. */
export interface GitHubLikeUser {
  id: number;
  login: string;
  name: string | null;
  /** The public email of /user: GitHub shows null unless the person made one public. */
  publicEmail: string | null;
  emails: Array<{ email: string; primary: boolean; verified: boolean; visibility: string | null }>;
}

interface Grant {
  user: GitHubLikeUser;
  redirectUri: string;
  challenge: string | null;
  used: boolean;
}

export interface GitHubLikeUpstream {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Registers the app's redirect URI (an exact match is required, as at GitHub). */
  register(redirectUri: string): void;
  /** Who "signs in" at the next authorization request (the test plays the person's choice). */
  signIn(user: GitHubLikeUser | 'deny'): void;
  /** Every access token it issued, to check none reaches the app's tokens. */
  readonly issuedTokens: string[];
  /** What each token request carried, to check PKCE and client authentication. */
  readonly tokenRequests: Array<Record<string, string>>;
  /** The IDP_UPSTREAMS entry for it, GitHub's endpoints and field mapping, and the environment it needs. */
  entry(id: string, overrides?: Record<string, unknown>): Record<string, unknown>;
  env(id: string, overrides?: Record<string, unknown>): Record<string, string>;
  close(): Promise<void>;
}

/**
 * A small plain OAuth 2.0 provider shaped like GitHub's endpoints (not OpenID: no ID token, no
 * discovery): /login/oauth/authorize, /login/oauth/access_token (client_secret_post, PKCE S256,
 * token_type "bearer" in lower case as GitHub writes it), /user (numeric id, login, name, email
 * null) and /user/emails. It checks what a real one would: the client, the exact redirect URI, the
 * code (single use), the secret and the PKCE verifier.
 * @see https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
 */
export async function startGitHubLikeUpstream(): Promise<GitHubLikeUpstream> {
  const clientId = `Iv1.${randomBytes(8).toString('hex')}`;
  const clientSecret = randomBytes(20).toString('hex');
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, GitHubLikeUser>();
  const issuedTokens: string[] = [];
  const tokenRequests: Array<Record<string, string>> = [];
  let next: GitHubLikeUser | 'deny' | undefined;

  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const redirectUri = url.searchParams.get('redirect_uri') ?? '';
      if (url.searchParams.get('client_id') !== clientId || !registeredRedirects.has(redirectUri)) {
        json(400, { error: 'redirect_uri_mismatch' });
        return;
      }
      const back = new URL(redirectUri);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      if (!next || next === 'deny') {
        back.searchParams.set('error', 'access_denied');
      } else {
        const code = randomBytes(10).toString('hex');
        codes.set(code, { user: next, redirectUri, challenge: url.searchParams.get('code_challenge'), used: false });
        back.searchParams.set('code', code);
      }
      response.writeHead(302, { Location: back.toString() });
      response.end();
      return;
    }
    if (request.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const form = Object.fromEntries(new URLSearchParams(await readBody(request)));
      tokenRequests.push(form);
      const grant = codes.get(form.code ?? '');
      const verifierOk =
        grant?.challenge ===
        createHash('sha256')
          .update(form.code_verifier ?? '')
          .digest('base64url');
      const clientOk = form.client_id === clientId && form.client_secret === clientSecret;
      if (!grant || grant.used || !clientOk || form.redirect_uri !== grant.redirectUri || !verifierOk) {
        json(400, { error: 'bad_verification_code' });
        return;
      }
      grant.used = true;
      const token = `gho_${randomBytes(16).toString('hex')}`;
      tokens.set(token, grant.user);
      issuedTokens.push(token);
      json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
      return;
    }
    const user = tokens.get((request.headers.authorization ?? '').replace(/^Bearer /i, ''));
    if (request.method === 'GET' && url.pathname === '/user' && user) {
      json(200, { id: user.id, login: user.login, name: user.name, email: user.publicEmail, type: 'User' });
      return;
    }
    if (request.method === 'GET' && url.pathname === '/user/emails' && user) {
      json(200, user.emails);
      return;
    }
    json(user ? 404 : 401, { message: user ? 'Not Found' : 'Requires authentication' });
  });
  const registeredRedirects = new Set<string>();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const entry = (id: string, overrides: Record<string, unknown> = {}) => ({
    id,
    type: 'oauth2',
    name: 'GitHub-like',
    authorizationEndpoint: `${url}/login/oauth/authorize`,
    tokenEndpoint: `${url}/login/oauth/access_token`,
    userinfoEndpoint: `${url}/user`,
    emailsEndpoint: `${url}/user/emails`,
    scopes: ['read:user', 'user:email'],
    claims: { sub: 'id', preferred_username: 'login', name: 'name', email: 'email' },
    clientId,
    clientSecretEnv: 'GITHUB_LIKE_SECRET',
    tokenEndpointAuthMethod: 'client_secret_post',
    trustEmail: true,
    ...overrides,
  });
  return {
    url,
    clientId,
    clientSecret,
    issuedTokens,
    tokenRequests,
    signIn(user) {
      next = user;
    },
    entry,
    env(id, overrides = {}) {
      return {
        IDP_UPSTREAMS: JSON.stringify([entry(id, overrides)]),
        GITHUB_LIKE_SECRET: clientSecret,
        IDP_OUTBOUND_PRIVATE_HOSTS: new URL(url).host,
      };
    },
    register(redirectUri) {
      registeredRedirects.add(redirectUri);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import type { Demo } from './demo.ts';

/** What the token endpoint answered, as the demo app keeps it. */
export interface TokenSet {
  accessToken: string;
  tokenType: string;
  idToken?: string | undefined;
  refreshToken?: string | undefined;
  scope?: string | undefined;
  /** Epoch ms when the access token stops working (from expires_in). */
  accessTokenExpiresAt?: number | undefined;
}

/** A call's result: the value, or the error as the server gave it (OAuth error code and description). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string; description: string };

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

const TIMEOUT_MS = 10_000;

/**
 * The demo client's side of the protocol, over HTTP to this server's own endpoints, as any app
 * would call them: the code exchange (with the PKCE verifier), refresh, userinfo, and the ID
 * token's signature checked against /jwks (jose). Used only by the token debugger, only in the
 * embedded mode. `serverUrl` is where it calls: the server's own listening address when the issuer
 * is plain http (in a container with a mapped port the issuer's host and port are the outside
 * ones), the issuer otherwise (an https issuer is a proxy, and the server refuses plain http).
 */
export function createDemoApp(demo: Demo, issuer: string, serverUrl: string = issuer) {
  /** Where the browser and a terminal reach the server (the issuer). */
  const endpoint = (path: string) => new URL(path, issuer).toString();
  /** Where the demo app itself calls it (see selfUrl). */
  const direct = (path: string) => new URL(path, serverUrl).toString();
  const jwks = createRemoteJWKSet(new URL('/jwks', serverUrl));
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(demo.client.client_id)}:${encodeURIComponent(demo.client.client_secret)}`).toString('base64')}`;

  const tokenRequest = async (parameters: Record<string, string>): Promise<Outcome<TokenSet>> => {
    const answer = await call(direct('/token'), {
      method: 'POST',
      headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(parameters),
    });
    if (!answer.ok) return answer;
    const body = answer.value;
    if (typeof body.access_token !== 'string')
      return { ok: false, error: 'invalid_response', description: 'the answer has no access_token' };
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined;
    return {
      ok: true,
      value: {
        accessToken: body.access_token,
        tokenType: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
        idToken: typeof body.id_token === 'string' ? body.id_token : undefined,
        refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
        scope: typeof body.scope === 'string' ? body.scope : undefined,
        accessTokenExpiresAt: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000,
      },
    };
  };

  return {
    redirectUri: demo.client.redirect_uris?.[0] ?? '',

    exchange: (code: string) =>
      tokenRequest({
        grant_type: 'authorization_code',
        code,
        redirect_uri: demo.client.redirect_uris?.[0] ?? '',
        code_verifier: demo.codeVerifier,
      }),

    refresh: (refreshToken: string) => tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }),

    userinfo: (accessToken: string) => call(direct('/me'), { headers: { Authorization: `Bearer ${accessToken}` } }),

    /** Whether the ID token's signature, issuer and audience hold, checked against the published keys. */
    async verify(idToken: string): Promise<{ valid: true } | { valid: false; reason: string }> {
      try {
        await jwtVerify(idToken, jwks, { issuer, audience: demo.client.client_id });
        return { valid: true };
      } catch (error) {
        return { valid: false, reason: (error as Error).message };
      }
    },

    /** The exact token request, for a terminal: one argument per line, every value quoted for a POSIX shell. */
    curl(code: string): string {
      return [
        `curl -s -u ${shellQuote(`${demo.client.client_id}:${demo.client.client_secret}`)} ${shellQuote(endpoint('/token'))} \\`,
        `  -d grant_type=authorization_code \\`,
        `  --data-urlencode ${shellQuote(`code=${code}`)} \\`,
        `  --data-urlencode ${shellQuote(`redirect_uri=${demo.client.redirect_uris?.[0] ?? ''}`)} \\`,
        `  --data-urlencode ${shellQuote(`code_verifier=${demo.codeVerifier}`)}`,
      ].join('\n');
    },

    /** RP-initiated logout, back to the debugger's start page. */
    endSessionUrl(idToken: string | undefined, state: string): string {
      const url = new URL('/session/end', issuer);
      url.search = new URLSearchParams({
        client_id: demo.client.client_id,
        post_logout_redirect_uri: endpoint('/demo'),
        state,
        ...(idToken ? { id_token_hint: idToken } : {}),
      }).toString();
      return url.toString();
    },
  };
}

export type DemoApp = ReturnType<typeof createDemoApp>;

/** A JSON answer of one of our endpoints; an error answer (or none) as its OAuth error. */
async function call(url: string, init: RequestInit): Promise<Outcome<Record<string, unknown>>> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    return { ok: false, error: 'unreachable', description: `${url} did not answer: ${(error as Error).message}` };
  }
  const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (response.ok && body) return { ok: true, value: body };
  const challenge = response.headers.get('www-authenticate') ?? '';
  const fromChallenge = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1];
  return {
    ok: false,
    error: String(body?.error ?? fromChallenge('error') ?? `http_${response.status}`),
    description: String(body?.error_description ?? fromChallenge('error_description') ?? response.statusText),
  };
}

/** The parts of a JWT, undecoded as far as they are not a JWT (an opaque access token). */
export function decodeJwtParts(token: string): DecodedJwt | undefined {
  try {
    return { header: decodeProtectedHeader(token) as Record<string, unknown>, claims: decodeJwt(token) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/**
 * One word for a POSIX shell, whatever it holds: single quotes, with each ' written as '\''. The
 * code comes from the query string, so anything may be in it; pasted, it stays one argument.
 */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

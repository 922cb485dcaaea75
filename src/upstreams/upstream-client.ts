import * as oidc from 'openid-client';
import type { OAuth2Upstream, OpenIdUpstream, Upstream } from '../config/upstreams-schema.ts';
import { issuerOf } from '../config/upstreams-schema.ts';
import type { OutboundFetch } from '../http/outbound-fetch.ts';
import { identityFromClaims, identityFromGitHubShape, type UpstreamIdentity } from './identity.ts';
import { UpstreamError } from './upstream-error.ts';

/** What one sign-in attempt keeps between leaving for the upstream and coming back (all single-use). */
export interface AttemptSecrets {
  state: string;
  nonce: string;
  codeVerifier: string;
  /**
   * Set (epoch seconds) when the app asked for a fresh sign-in (prompt=login, max_age): an OpenID
   * upstream is asked for one too, and its `auth_time` must not be older.
   */
  freshSince?: number;
}

/** Clock skew accepted between the upstream's `auth_time` and ours. */
const AUTH_TIME_TOLERANCE_SECONDS = 30;

/** One configured upstream, spoken to through openid-client. */
export interface UpstreamClient {
  readonly settings: Upstream;
  /** Where to send the browser: the upstream's authorization endpoint with state, nonce and PKCE. */
  authorizationUrl(secrets: AttemptSecrets, options: { redirectUri: string; locale: string }): Promise<URL>;
  /**
   * Validates the authorization response (state, RFC 9207 `iss`), redeems the code with the PKCE
   * verifier, validates the ID token (signature, issuer, audience, expiry, nonce) and reads who the
   * person is. The upstream's tokens go no further than this function.
   * @throws UpstreamError
   */
  complete(callbackUrl: URL, secrets: AttemptSecrets): Promise<UpstreamIdentity>;
}

/** A discovered configuration is reused this long, then discovered again (keys and endpoints may move). */
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
/** Seconds openid-client waits for each request to an upstream. */
const REQUEST_TIMEOUT_SECONDS = 10;

export function createUpstreamClient(settings: Upstream, fetch: OutboundFetch): UpstreamClient {
  return settings.type === 'oidc' ? openIdClient(settings, fetch) : oauth2Client(settings, fetch);
}

function clientAuthentication(settings: Upstream): oidc.ClientAuth {
  const method = settings.tokenEndpointAuthMethod ?? (settings.clientSecret ? 'client_secret_basic' : 'none');
  if (method === 'none') return oidc.None();
  return method === 'client_secret_post' ? oidc.ClientSecretPost(settings.clientSecret) : oidc.ClientSecretBasic(settings.clientSecret);
}

/** Plain http is accepted for loopback upstreams only (the schema refuses it elsewhere). */
function executeOptions(url: string): Array<(config: oidc.Configuration) => void> {
  return new URL(url).protocol === 'http:' ? [oidc.allowInsecureRequests] : [];
}

function prepare(config: oidc.Configuration, fetch: OutboundFetch, url: string): oidc.Configuration {
  config[oidc.customFetch] = fetch;
  config.timeout = REQUEST_TIMEOUT_SECONDS;
  for (const execute of executeOptions(url)) execute(config);
  return config;
}

/** An OpenID Connect provider: everything but the client comes from its discovery document. */
function openIdClient(settings: OpenIdUpstream, fetch: OutboundFetch): UpstreamClient {
  let cached: { config: Promise<oidc.Configuration>; at: number } | undefined;
  const configuration = () => {
    if (!cached || Date.now() - cached.at > DISCOVERY_TTL_MS) {
      const config = oidc
        .discovery(new URL(settings.issuer), settings.clientId, undefined, clientAuthentication(settings), {
          [oidc.customFetch]: fetch,
          execute: executeOptions(settings.issuer),
          timeout: REQUEST_TIMEOUT_SECONDS,
        })
        .then((discovered) => prepare(discovered, fetch, settings.issuer));
      const entry = { config, at: Date.now() };
      // A failed discovery is not kept: the next attempt tries again.
      config.catch(() => {
        if (cached === entry) cached = undefined;
      });
      cached = entry;
    }
    return cached.config;
  };
  const scopes = new Set(['openid', ...(settings.scopes ?? ['email', 'profile'])]);

  return {
    settings,
    async authorizationUrl({ state, nonce, codeVerifier, freshSince }, { redirectUri, locale }) {
      const config = await configuration().catch((error: unknown) => {
        throw new UpstreamError('unreachable', `discovery of ${settings.issuer} failed: ${(error as Error).message}`, { cause: error });
      });
      return oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: [...scopes].join(' '),
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        ui_locales: locale,
        // OpenID Connect Core §3.1.2.1: the upstream must authenticate the person again.
        ...(freshSince === undefined ? {} : { prompt: 'login' }),
      });
    },
    async complete(callbackUrl, { state, nonce, codeVerifier, freshSince }) {
      const config = await configuration();
      const tokens = await redeem(() =>
        oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: codeVerifier,
          expectedState: state,
          expectedNonce: nonce,
          idTokenExpected: true,
        }),
      );
      const idToken = tokens.claims();
      if (!idToken) throw new UpstreamError('invalid_response', 'the token response has no ID token');
      if (
        freshSince !== undefined &&
        !(typeof idToken.auth_time === 'number' && idToken.auth_time >= freshSince - AUTH_TIME_TOLERANCE_SECONDS)
      ) {
        throw new UpstreamError(
          'invalid_response',
          `a fresh sign-in was asked for, and the ID token's auth_time is ${idToken.auth_time ?? 'absent'}`,
        );
      }
      // Code-flow providers (this one included) may put profile and email claims in userinfo only.
      const userinfo = config.serverMetadata().userinfo_endpoint
        ? await redeem(() => oidc.fetchUserInfo(config, tokens.access_token, idToken.sub))
        : {};
      return identityFromClaims(settings, config.serverMetadata().issuer, { ...userinfo, ...idToken });
    },
  };
}

/** A plain OAuth 2.0 provider (GitHub): its endpoints from configuration, the person from its user document. */
function oauth2Client(settings: OAuth2Upstream, fetch: OutboundFetch): UpstreamClient {
  const issuer = issuerOf(settings);
  const config = prepare(
    new oidc.Configuration(
      { issuer, authorization_endpoint: settings.authorizationEndpoint, token_endpoint: settings.tokenEndpoint },
      settings.clientId,
      undefined,
      clientAuthentication(settings),
    ),
    fetch,
    settings.tokenEndpoint,
  );
  const readJson = async (accessToken: string, url: string): Promise<unknown> => {
    const response = await redeem(() =>
      oidc.fetchProtectedResource(config, accessToken, new URL(url), 'GET', undefined, new Headers({ Accept: 'application/json' })),
    );
    if (!response.ok) throw new UpstreamError('invalid_response', `${url} answered ${response.status}`);
    return response.json().catch((error: unknown) => {
      throw new UpstreamError('invalid_response', `${url} did not answer JSON`, { cause: error });
    });
  };

  return {
    settings,
    async authorizationUrl({ state, codeVerifier }, { redirectUri }) {
      return oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        response_type: 'code',
        ...(settings.scopes?.length ? { scope: settings.scopes.join(' ') } : {}),
        state,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
    },
    async complete(callbackUrl, { state, codeVerifier }) {
      const tokens = await redeem(() =>
        oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: codeVerifier, expectedState: state }),
      );
      const user = await readJson(tokens.access_token, settings.userinfoEndpoint);
      const emails = settings.emailsEndpoint ? await readJson(tokens.access_token, settings.emailsEndpoint) : undefined;
      return identityFromGitHubShape(settings, issuer, user, emails);
    },
  };
}

/**
 * Runs one exchange with the upstream; what openid-client refuses (a wrong state, `iss` or nonce, a
 * bad signature, an error answer) is an invalid response, anything else (no answer) unreachable.
 */
async function redeem<T>(exchange: () => Promise<T>): Promise<T> {
  try {
    return await exchange();
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    const refused =
      error instanceof oidc.ResponseBodyError ||
      error instanceof oidc.AuthorizationResponseError ||
      error instanceof oidc.WWWAuthenticateChallengeError ||
      (error instanceof Error && 'code' in error && String((error as { code: unknown }).code).startsWith('OAUTH_'));
    throw new UpstreamError(refused ? 'invalid_response' : 'unreachable', (error as Error).message, { cause: error });
  }
}

import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import type { ClientMetadata } from 'oidc-provider';
import { expectPage, expectRedirect, type Page, UserAgent } from './user-agent.ts';

export const RP_REDIRECT_URI = 'https://rp.example.test/callback';
export const RP_POST_LOGOUT_URI = 'https://rp.example.test/signed-out';

/** A confidential client as a third-party app would register it. */
export function rpClient(overrides: Partial<ClientMetadata> = {}): ClientMetadata {
  return {
    client_id: 'rp-app',
    client_secret: randomBytes(24).toString('base64url'),
    client_name: 'Example App',
    redirect_uris: [RP_REDIRECT_URI],
    post_logout_redirect_uris: [RP_POST_LOGOUT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...overrides,
  };
}

export interface Authorization {
  url: URL;
  codeVerifier: string;
  state: string;
  nonce: string;
}

/**
 * The relying party side, with openid-client doing discovery, PKCE, state/nonce, the token
 * exchange and ID token validation against the server's JWKS, over real HTTP.
 */
export class RelyingParty {
  readonly config: oidc.Configuration;

  private constructor(config: oidc.Configuration) {
    this.config = config;
  }

  /** `fetch` replaces the HTTP client, e.g. to reach an https issuer through a test proxy. */
  static async discover(issuer: string, client: ClientMetadata, fetch?: oidc.CustomFetch): Promise<RelyingParty> {
    const config = await oidc.discovery(new URL(issuer), client.client_id, client.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
      ...(fetch ? { [oidc.customFetch]: fetch } : {}),
    });
    if (fetch) config[oidc.customFetch] = fetch;
    return new RelyingParty(config);
  }

  async authorize(parameters: Record<string, string> = {}): Promise<Authorization> {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(this.config, {
      redirect_uri: RP_REDIRECT_URI,
      scope: 'openid profile email offline_access',
      prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...parameters,
    });
    return { url, codeVerifier, state, nonce };
  }

  exchange(authorization: Authorization, callback: URL) {
    return oidc.authorizationCodeGrant(this.config, callback, {
      pkceCodeVerifier: authorization.codeVerifier,
      expectedState: authorization.state,
      expectedNonce: authorization.nonce,
      idTokenExpected: true,
    });
  }

  userinfo(accessToken: string, sub: string) {
    return oidc.fetchUserInfo(this.config, accessToken, sub);
  }

  refresh(refreshToken: string) {
    return oidc.refreshTokenGrant(this.config, refreshToken);
  }

  /** Whether the server still honours the app's access and refresh token (RFC 7662 introspection, as this client). */
  async active(tokens: { access_token: string; refresh_token?: string | undefined }): Promise<{ access: boolean; refresh: boolean }> {
    if (!tokens.refresh_token) throw new Error('no refresh token to introspect (offline_access not granted?)');
    const [access, refresh] = await Promise.all([tokens.access_token, tokens.refresh_token].map((token) => oidc.tokenIntrospection(this.config, token)));
    return { access: access?.active === true, refresh: refresh?.active === true };
  }

  endSessionUrl(idToken: string, state: string): URL {
    return oidc.buildEndSessionUrl(this.config, { id_token_hint: idToken, post_logout_redirect_uri: RP_POST_LOGOUT_URI, state });
  }
}

export interface NewAccount {
  username: string;
  email: string;
  password: string;
}

let accountCounter = 0;
export function newAccount(label = 'user'): NewAccount {
  accountCounter += 1;
  const suffix = `${accountCounter}${randomBytes(3).toString('hex')}`;
  return { username: `${label}${suffix}`, email: `${label}${suffix}@example.com`, password: `a fine long passphrase ${suffix}` };
}

/** Opens the authorization URL and returns the first page (the login page for a new browser). */
export async function openAuthorization(agent: UserAgent, authorization: Authorization): Promise<Page> {
  return expectPage(await agent.get(authorization.url, RP_REDIRECT_URI));
}

/** From the login page: follow "Create an account", fill the form, arrive at the next page. */
export async function registerFrom(agent: UserAgent, loginPage: Page, account: NewAccount) {
  const registerHref = loginPage.$('a[href$="/register"]').attr('href');
  if (!registerHref) throw new Error('login page has no registration link');
  const registerPage = expectPage(await agent.get(new URL(registerHref, loginPage.url)));
  return agent.submit(
    registerPage,
    'form[action$="/register"]',
    { username: account.username, email: account.email, password: account.password, confirmPassword: account.password },
    RP_REDIRECT_URI,
  );
}

export async function signInFrom(agent: UserAgent, loginPage: Page, login: string, password: string, remember = false) {
  return agent.submit(loginPage, 'form[action$="/login"]', { login, password, ...(remember ? { remember: 'on' } : {}) }, RP_REDIRECT_URI);
}

export async function allowConsent(agent: UserAgent, consentPage: Page): Promise<URL> {
  return expectRedirect(await agent.submit(consentPage, 'form[action$="/confirm"]', {}, RP_REDIRECT_URI));
}

/** The whole browser side for a new user: register, consent, back at the app with a code. */
export async function registerAndConsent(agent: UserAgent, authorization: Authorization, account: NewAccount): Promise<URL> {
  const loginPage = await openAuthorization(agent, authorization);
  const consentPage = expectPage(await registerFrom(agent, loginPage, account));
  return allowConsent(agent, consentPage);
}

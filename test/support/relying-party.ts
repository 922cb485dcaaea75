import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import * as oidc from 'openid-client';
import { expectPage, expectRedirect, type Page, type UserAgent } from './user-agent.ts';

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

/** An authorization request as the app sent it; a hand-built one may leave out state or nonce. */
export interface AuthorizationRequest {
  url: URL;
  codeVerifier: string;
  state?: string | undefined;
  nonce?: string | undefined;
}

/** What `RelyingParty.authorize` sends: always with state and nonce. */
export interface Authorization extends AuthorizationRequest {
  state: string;
  nonce: string;
}

export interface DiscoverOptions {
  /** Replaces the HTTP client, e.g. to reach an https issuer through a test proxy. */
  fetch?: oidc.CustomFetch | undefined;
  /** How the client authenticates at the token endpoint; openid-client's default for its metadata otherwise. */
  auth?: oidc.ClientAuth | undefined;
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

  static async discover(issuer: string, client: ClientMetadata, { fetch, auth }: DiscoverOptions = {}): Promise<RelyingParty> {
    const config = await oidc.discovery(new URL(issuer), client.client_id, client.client_secret, auth, {
      execute: [oidc.allowInsecureRequests],
      ...(fetch ? { [oidc.customFetch]: fetch } : {}),
    });
    if (fetch) config[oidc.customFetch] = fetch;
    return new RelyingParty(config);
  }

  /** An authorization request with these parameters over the defaults; an empty value leaves a default parameter out. */
  async authorize(parameters: Record<string, string> = {}): Promise<Authorization> {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const all: Record<string, string> = {
      redirect_uri: RP_REDIRECT_URI,
      scope: 'openid profile email offline_access',
      prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...parameters,
    };
    const url = oidc.buildAuthorizationUrl(this.config, Object.fromEntries(Object.entries(all).filter(([, value]) => value !== '')));
    return { url, codeVerifier, state, nonce };
  }

  exchange(authorization: AuthorizationRequest, callback: URL) {
    return oidc.authorizationCodeGrant(this.config, callback, {
      pkceCodeVerifier: authorization.codeVerifier,
      expectedState: authorization.state ?? oidc.skipStateCheck,
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
    const [access, refresh] = await Promise.all(
      [tokens.access_token, tokens.refresh_token].map((token) => oidc.tokenIntrospection(this.config, token)),
    );
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

export async function signInFrom(
  agent: UserAgent,
  loginPage: Page,
  login: string,
  password: string,
  remember = false,
  redirectUri = RP_REDIRECT_URI,
) {
  return agent.submit(loginPage, 'form[action$="/login"]', { login, password, ...(remember ? { remember: 'on' } : {}) }, redirectUri);
}

export async function allowConsent(agent: UserAgent, consentPage: Page, redirectUri = RP_REDIRECT_URI): Promise<URL> {
  return expectRedirect(await agent.submit(consentPage, 'form[action$="/confirm"]', {}, redirectUri));
}

export function isLoginPage(page: Page): boolean {
  return page.$('form[action$="/login"] input[name=password]').length > 0;
}

export interface AuthorizationResult {
  /** Where the browser was sent back to the app, with the response parameters. */
  callback: URL;
  /** Whether the server asked the person to sign in during this request. */
  loginShown: boolean;
  consentShown: boolean;
}

/**
 * Plays the browser for one authorization request of a person with an account: signs in when the
 * server asks, allows consent when asked, and returns where the browser was sent back to the app.
 */
export async function authorizeAs(
  agent: UserAgent,
  url: URL,
  person: { login: string; password: string },
  init: RequestInit = {},
  /** The app's redirect URI, where the browser's trip ends. */
  redirectUri = RP_REDIRECT_URI,
): Promise<AuthorizationResult> {
  let result = await agent.follow(url, init, redirectUri);
  let loginShown = false;
  let consentShown = false;
  for (let step = 0; step < 3 && !result.redirectedTo; step += 1) {
    const page = expectPage(result);
    if (isLoginPage(page)) {
      loginShown = true;
      result = await signInFrom(agent, page, person.login, person.password, false, redirectUri);
    } else if (page.$('form[action$="/confirm"]').length > 0) {
      consentShown = true;
      return { callback: await allowConsent(agent, page, redirectUri), loginShown, consentShown };
    } else {
      throw new Error(`unexpected page ${page.status} ${page.url}: ${page.$('main').text().trim().slice(0, 300)}`);
    }
  }
  if (!result.redirectedTo) throw new Error('the server never sent the browser back to the app');
  return { callback: result.redirectedTo, loginShown, consentShown };
}

/** The whole browser side for a new user: register, consent, back at the app with a code. */
export async function registerAndConsent(agent: UserAgent, authorization: Authorization, account: NewAccount): Promise<URL> {
  const loginPage = await openAuthorization(agent, authorization);
  const consentPage = expectPage(await registerFrom(agent, loginPage, account));
  return allowConsent(agent, consentPage);
}

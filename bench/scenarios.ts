import { type BenchClient, basicAuth } from './fixtures.ts';
import type { RequestSpec } from './load.ts';

/** What the token scenarios need from a server under test: its clients and tokens it issued. */
export interface ScenarioContext {
  service: BenchClient;
  app: BenchClient;
  /**
   * Refresh tokens from real sign-ins, minted afresh per scenario: the baseline's memory adapter is
   * an LRU of 1000 records, so earlier scenarios push older ones out. A confidential client's
   * refresh tokens are not rotated (oidc-provider's default rotateRefreshToken), so each is reused.
   */
  refreshTokens(): Promise<string[]>;
  /** A fresh access token of a signed-in user, from a sign-in. */
  accessToken(): Promise<string>;
}

export interface Scenario {
  id: string;
  title: string;
  build(context: ScenarioContext): Promise<RequestSpec>;
  /** What a correct answer looks like, checked once before the load. */
  accepts(status: number, body: string): boolean;
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const json = (body: string): Record<string, unknown> => {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
};

/** The scenarios autocannon drives against both servers, in the order they run. */
export const SCENARIOS: Scenario[] = [
  {
    id: 'client_credentials',
    title: '1. token: client credentials',
    build: async ({ service }) => ({
      method: 'POST',
      path: '/token',
      headers: { ...FORM, Authorization: basicAuth(service) },
      bodies: ['grant_type=client_credentials'],
    }),
    accepts: (status, body) => status === 200 && typeof json(body).access_token === 'string',
  },
  {
    id: 'refresh_token',
    title: '2. token: refresh',
    build: async ({ app, refreshTokens }) => ({
      method: 'POST',
      path: '/token',
      headers: { ...FORM, Authorization: basicAuth(app) },
      bodies: (await refreshTokens()).map((token) => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString()),
    }),
    accepts: (status, body) => status === 200 && typeof json(body).id_token === 'string',
  },
  {
    id: 'userinfo',
    title: '3. userinfo (bearer)',
    build: async ({ accessToken }) => ({ method: 'GET', path: '/me', headers: { Authorization: `Bearer ${await accessToken()}` } }),
    accepts: (status, body) => status === 200 && typeof json(body).sub === 'string',
  },
  {
    id: 'introspection',
    title: '4. introspection',
    build: async ({ service, accessToken }) => ({
      method: 'POST',
      path: '/token/introspection',
      headers: { ...FORM, Authorization: basicAuth(service) },
      bodies: [new URLSearchParams({ token: await accessToken() }).toString()],
    }),
    accepts: (status, body) => status === 200 && json(body).active === true,
  },
  {
    id: 'discovery',
    title: '5a. discovery',
    build: async () => ({ method: 'GET', path: '/.well-known/openid-configuration', headers: {} }),
    accepts: (status, body) => status === 200 && typeof json(body).issuer === 'string',
  },
  {
    id: 'jwks',
    title: '5b. JWKS',
    build: async () => ({ method: 'GET', path: '/jwks', headers: {} }),
    accepts: (status, body) => status === 200 && Array.isArray(json(body).keys),
  },
];

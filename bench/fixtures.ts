import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import { type ClientSpec, toMetadata } from '../src/clients/client-spec.ts';

/** The redirect URI of the benchmark's app; never fetched, the flow driver stops at it. */
export const REDIRECT_URI = 'https://rp.bench.test/callback';

export interface BenchClient {
  clientId: string;
  secret: string;
  spec: ClientSpec;
}

export interface BenchUser {
  username: string;
  email: string;
  password: string;
}

/**
 * The clients both servers know: a service using client credentials (it also introspects, as a
 * resource server would) and a web app signing people in with refresh tokens.
 */
export function benchClients(): { service: BenchClient; app: BenchClient } {
  const secret = () => randomBytes(32).toString('base64url');
  return {
    service: {
      clientId: 'bench-service',
      secret: secret(),
      spec: { name: 'Bench service', redirectUris: [], postLogoutRedirectUris: [], grantTypes: ['client_credentials'] },
    },
    app: {
      clientId: 'bench-app',
      secret: secret(),
      spec: {
        name: 'Bench app',
        redirectUris: [REDIRECT_URI],
        postLogoutRedirectUris: [],
        grantTypes: ['authorization_code', 'refresh_token'],
        scope: 'openid profile email offline_access',
      },
    },
  };
}

/** The same client as the bare library's static configuration takes it. */
export function staticMetadata(client: BenchClient): ClientMetadata {
  return { client_id: client.clientId, client_secret: client.secret, ...toMetadata(client.spec) } as ClientMetadata;
}

export function benchUsers(count: number): BenchUser[] {
  return Array.from({ length: count }, (_, index) => ({
    username: `bench${index}`,
    email: `bench${index}@bench.test`,
    password: `bench passphrase ${randomBytes(9).toString('base64url')}`,
  }));
}

export function basicAuth(client: BenchClient): string {
  const encode = (value: string) => encodeURIComponent(value);
  return `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.secret)}`).toString('base64')}`;
}

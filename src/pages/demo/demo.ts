import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import { sha256Base64url } from '../../digest.ts';

export interface Demo {
  client: ClientMetadata & { client_id: string; client_secret: string };
  /** The demo user; absent when a seed file declares the users. */
  user: { username: string; email: string; password: string } | undefined;
  codeVerifier: string;
  authorizationUrl: string;
}

/**
 * The embedded mode's ready-made relying party and user, so a developer can run a whole
 * authorization code flow (with PKCE) against a fresh `npm start`, and the token debugger
 * (token-debugger.ts) can play the app. The PKCE verifier is new at every start, the secret too
 * unless IDP_DATA_DIR or the seed file keeps it; nothing here exists outside the embedded mode.
 */
export function createDemo(
  issuer: string,
  options: { clientSecret?: string | undefined; withUser?: boolean; randomPassword?: boolean } = {},
): Demo {
  const redirectUri = new URL('/demo/callback', issuer).toString();
  const codeVerifier = randomBytes(32).toString('base64url');
  const client: Demo['client'] = {
    client_id: 'demo-client',
    client_secret: options.clientSecret ?? randomBytes(24).toString('base64url'),
    client_name: 'Demo application',
    redirect_uris: [redirectUri],
    // The token debugger's log-out comes back to /demo; / stays for those who used it before.
    post_logout_redirect_uris: [new URL('/', issuer).toString(), new URL('/demo', issuer).toString()],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  };
  const url = new URL('/auth', issuer);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    scope: 'openid profile email offline_access',
    prompt: 'consent',
    redirect_uri: redirectUri,
    state: randomBytes(8).toString('hex'),
    code_challenge: sha256Base64url(codeVerifier),
    code_challenge_method: 'S256',
  }).toString();
  return {
    client,
    user:
      options.withUser === false
        ? undefined
        : {
            username: 'demo',
            email: 'demo@example.com',
            // Where the server answers beyond loopback (a container), the documented password would let anyone in.
            password: options.randomPassword ? `demo-${randomBytes(12).toString('base64url')}` : 'demo-password-2024',
          },
    codeVerifier,
    authorizationUrl: url.toString(),
  };
}

/** Lines printed at start in the embedded mode. */
export function demoBanner(demo: Demo, issuer: string): string[] {
  return [
    'Embedded mode: users, sessions and tokens live in this process and vanish when it stops.',
    `  Discovery:     ${new URL('/.well-known/openid-configuration', issuer)}`,
    `  Client id:     ${demo.client.client_id}`,
    `  Client secret: ${demo.client.client_secret}`,
    `  Redirect URI:  ${demo.client.redirect_uris?.[0]}`,
    demo.user
      ? `  Demo user:     ${demo.user.username} (or ${demo.user.email}) / ${demo.user.password}`
      : '  Users:         those of the seed file (IDP_SEED_FILE)',
    `  PKCE verifier: ${demo.codeVerifier}`,
    '  Open this URL in a browser to sign in (the demo app then shows its tokens):',
    `  ${demo.authorizationUrl}`,
    `  Token debugger: ${new URL('/demo', issuer)}`,
  ];
}

import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../../src/config/load-config.ts';
import { CONFIG_DIR } from '../../support/test-config.ts';

const GOOGLE = {
  id: 'google',
  type: 'oidc',
  name: 'Google',
  issuer: 'https://accounts.google.com',
  clientId: 'google-client',
  clientSecretEnv: 'GOOGLE_CLIENT_SECRET',
  trustEmail: true,
};
const GITHUB = {
  id: 'github',
  type: 'oauth2',
  name: 'GitHub',
  icon: '/assets/github.svg',
  authorizationEndpoint: 'https://github.com/login/oauth/authorize',
  tokenEndpoint: 'https://github.com/login/oauth/access_token',
  userinfoEndpoint: 'https://api.github.com/user',
  emailsEndpoint: 'https://api.github.com/user/emails',
  scopes: ['read:user', 'user:email'],
  claims: { sub: 'id', preferred_username: 'login', name: 'name', email: 'email' },
  clientId: 'github-client',
  clientSecretEnv: 'GITHUB_CLIENT_SECRET',
  tokenEndpointAuthMethod: 'client_secret_post',
};

const load = (env: Record<string, string | undefined>, readFile?: (path: string) => string) =>
  loadConfig({ env, configDir: CONFIG_DIR, ...(readFile ? { readFile } : {}) });

function errorsOf(upstreams: unknown[], env: Record<string, string> = {}): string[] {
  const result = load({ IDP_UPSTREAMS: JSON.stringify(upstreams), ...env });
  if (result.ok) throw new Error('expected configuration errors');
  return result.errors;
}

describe('IDP_UPSTREAMS', () => {
  test('none by default', () => {
    const result = load({});
    expect(result.ok && result.config.upstreams).toEqual([]);
  });

  test('an OpenID provider and a GitHub-shaped OAuth 2.0 provider, secrets read from the variables they name', () => {
    const result = load({
      IDP_UPSTREAMS: JSON.stringify([GOOGLE, GITHUB]),
      GOOGLE_CLIENT_SECRET: 'google-secret',
      GITHUB_CLIENT_SECRET: ' github-secret\n',
    });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const [google, github] = result.config.upstreams;
    expect(google).toMatchObject({ id: 'google', type: 'oidc', clientSecret: 'google-secret', trustEmail: true });
    expect(github).toMatchObject({ id: 'github', type: 'oauth2', clientSecret: 'github-secret', trustEmail: false, claims: { sub: 'id' } });
    expect(JSON.stringify(result.config.upstreams)).not.toContain('"clientSecret":undefined');
  });

  test('the list may come from a file (IDP_UPSTREAMS_FILE), and a secret from <NAME>_FILE', () => {
    const files: Record<string, string> = {
      '/etc/idp/upstreams.json': JSON.stringify([GOOGLE]),
      '/run/secrets/google': 'from-a-file\n',
    };
    const readFile = (path: string) => files[path] ?? readFileSync(path, 'utf8');
    const result = load({ IDP_UPSTREAMS_FILE: '/etc/idp/upstreams.json', GOOGLE_CLIENT_SECRET_FILE: '/run/secrets/google' }, readFile);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.upstreams[0]?.clientSecret).toBe('from-a-file');
  });

  test('each problem is one line naming the upstream path', () => {
    const errors = errorsOf(
      [
        { ...GOOGLE, issuer: 'http://accounts.example.com' },
        { ...GOOGLE, id: 'Google!', issuer: 'https://other.example.com' },
        { ...GITHUB, clientSecret: 'inline', claims: {} },
        { ...GOOGLE, id: 'google', issuer: 'https://third.example.com', type: 'saml' },
      ],
      { GOOGLE_CLIENT_SECRET: 's', GITHUB_CLIENT_SECRET: 's' },
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        'upstreams.0.issuer (IDP_UPSTREAMS): must be an https:// URL without a fragment (plain http only on loopback)',
        'upstreams.1.id (IDP_UPSTREAMS): must be 1 to 32 lowercase letters, digits or hyphens (it is part of the redirect URI)',
        'upstreams.2.clientSecret (IDP_UPSTREAMS): secrets come only from the environment: put the secret in a variable and name it in "clientSecretEnv"',
        expect.stringMatching(/^upstreams\.2\.claims\.sub \(IDP_UPSTREAMS\): /),
        'upstreams.3.type (IDP_UPSTREAMS): each upstream needs "type": "oidc" (an OpenID Connect provider) or "oauth2" (plain OAuth 2.0, such as GitHub)',
      ]),
    );
    expect(errors).toHaveLength(5);
  });

  test('ids and issuers are unique', () => {
    const errors = errorsOf([GOOGLE, { ...GOOGLE, issuer: 'https://other.example.com' }, { ...GOOGLE, id: 'google2' }], {
      GOOGLE_CLIENT_SECRET: 's',
    });
    expect(errors).toEqual([
      'upstreams.1.id (IDP_UPSTREAMS): "google" is used twice; ids must be unique',
      'upstreams.2.issuer (IDP_UPSTREAMS): https://accounts.google.com is configured twice; links are keyed by issuer, so each may appear once',
    ]);
  });

  test('a plain OAuth 2.0 subject must not be a field that can change or pass to someone else', () => {
    const errors = errorsOf([{ ...GITHUB, claims: { ...GITHUB.claims, sub: 'login' } }], { GITHUB_CLIENT_SECRET: 's' });
    expect(errors).toEqual([
      'upstreams.0.claims.sub (IDP_UPSTREAMS): "login" can change or pass to someone else at the upstream; map a stable id that never does (GitHub: "id")',
    ]);
    expect(errorsOf([{ ...GITHUB, claims: { sub: 'user.email' } }], { GITHUB_CLIENT_SECRET: 's' })).toHaveLength(1);
  });

  test('a secret variable that is not set is named', () => {
    expect(errorsOf([GOOGLE])).toEqual([
      'upstreams.0.clientSecretEnv (IDP_UPSTREAMS): GOOGLE_CLIENT_SECRET is not set; it must hold the client secret of "google"',
    ]);
  });

  test('a provider on a loopback address must be allowed in IDP_OUTBOUND_PRIVATE_HOSTS', () => {
    const local = { ...GOOGLE, issuer: 'http://127.0.0.2:4100' };
    expect(errorsOf([local], { GOOGLE_CLIENT_SECRET: 's' })).toEqual([
      'upstreams.0.issuer (IDP_UPSTREAMS): 127.0.0.2:4100 is a loopback or private address: add it to IDP_OUTBOUND_PRIVATE_HOSTS to let this server call it',
    ]);
    const allowed = load({
      IDP_UPSTREAMS: JSON.stringify([local]),
      GOOGLE_CLIENT_SECRET: 's',
      IDP_OUTBOUND_PRIVATE_HOSTS: '127.0.0.2:4100',
    });
    expect(allowed.ok).toBe(true);
  });

  test('a value that is not JSON says where it broke', () => {
    const result = load({ IDP_UPSTREAMS: '[{"id": "x",}]' });
    expect(result.ok ? [] : result.errors).toEqual([expect.stringMatching(/^upstreams \(IDP_UPSTREAMS\): must be valid JSON \(.+\)$/)]);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../../src/config/load-config.ts';
import { CONFIG_DIR } from '../../support/test-config.ts';

const load = (env: Record<string, string | undefined>, readFile?: (path: string) => string) =>
  loadConfig({ env, configDir: CONFIG_DIR, ...(readFile ? { readFile } : {}) });

function errorsOf(result: ReturnType<typeof load>): string[] {
  if (result.ok) throw new Error('expected configuration errors');
  return result.errors;
}

describe('loadConfig', () => {
  test('defaults come from config/default.json; the issuer follows the port', () => {
    const result = load({ PORT: '4000' });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config).toMatchObject({
      env: 'development',
      port: 4000,
      issuer: 'http://localhost:4000',
      trustProxy: false,
      argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 },
      password: { minLength: 15, maxLength: 128 },
    });
    expect(result.config.mongodbUri).toBeUndefined();
    expect(result.config.redisUrl).toBeUndefined();
  });

  test('POST authorization requests need an https issuer, and say so in one line', () => {
    expect(errorsOf(load({ IDP_AUTHORIZATION_POST: 'true' }))).toEqual([
      'protocol.authorizationPost (IDP_AUTHORIZATION_POST): needs an https ISSUER: it makes the session cookie SameSite=None, which browsers accept only when Secure',
    ]);
    const result = load({ IDP_AUTHORIZATION_POST: 'true', ISSUER: 'https://id.example.com' });
    expect(result.ok && result.config.protocol.authorizationPost).toBe(true);
  });

  test('IDP_CLAIM_SCOPES ties extra claims to scopes; every mistake is one line naming the scope', () => {
    const result = load({ IDP_CLAIM_SCOPES: '{"profile":["department"],"org":["employee_id","https://example.com/roles"]}' });
    expect(result.ok && result.config.claimScopes).toEqual({ profile: ['department'], org: ['employee_id', 'https://example.com/roles'] });
    expect(
      errorsOf(
        load({
          IDP_CLAIM_SCOPES: '{"openid":["a"],"org":["email","ok"],"team":["ok"],"bad scope":["b"],"empty":[]}',
          IDP_RESOURCES: '[{"indicator":"https://api.example.com","scopes":["orders:read","team"]}]',
        }),
      ),
    ).toEqual([
      'claimScopes.openid (IDP_CLAIM_SCOPES): the scope "openid" cannot release extra claims; use profile, groups or a scope of your own',
      'claimScopes.org.0 (IDP_CLAIM_SCOPES): "email" is a claim the server sets itself; choose another name',
      'claimScopes.bad scope (IDP_CLAIM_SCOPES): scopes are words without spaces or quotes',
      'claimScopes.empty (IDP_CLAIM_SCOPES): each scope names at least one claim',
    ]);
    expect(errorsOf(load({ IDP_CLAIM_SCOPES: '{"org":["a"],"team":["a"]}' }))).toEqual([
      'claimScopes.team (IDP_CLAIM_SCOPES): the claim "a" is already released by the scope "org"',
    ]);
    expect(
      errorsOf(
        load({
          IDP_CLAIM_SCOPES: '{"team":["a"]}',
          IDP_RESOURCES: '[{"indicator":"https://api.example.com","scopes":["team"]}]',
        }),
      ),
    ).toEqual([
      "claimScopes.team (IDP_CLAIM_SCOPES): is also a scope of the API https://api.example.com (IDP_RESOURCES); give the claims' scope another name",
    ]);
  });

  test('IDP_DATA_DIR is for development: production refuses it and keeps needing its keys', () => {
    expect(load({ IDP_DATA_DIR: '/tmp/idp' }).ok).toBe(true);
    expect(errorsOf(load({ NODE_ENV: 'production', IDP_DATA_DIR: '/tmp/idp' }))).toEqual(
      expect.arrayContaining([
        'dataDir (IDP_DATA_DIR): is for development only: production takes its keys from IDP_JWKS, IDP_COOKIE_KEYS and IDP_CLIENT_SECRET_KEYS',
        'jwks (IDP_JWKS): is required: production needs a fixed signing key set so restarts and instances accept each other',
      ]),
    );
  });

  test('environment variables override files, and config/<env>.json overrides default.json', () => {
    const result = load({
      NODE_ENV: 'test',
      ISSUER: 'https://id.example.com',
      TRUST_PROXY: 'true',
      IDP_ARGON2_MEMORY_KIB: '65536',
      IDP_COOKIE_KEYS: `${'a'.repeat(32)}, ${'b'.repeat(40)}`,
    });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.logLevel).toBe('silent'); // from config/test.json
    expect(result.config.issuer).toBe('https://id.example.com');
    expect(result.config.trustProxy).toBe(true);
    expect(result.config.argon2.memoryCost).toBe(65536);
    expect(result.config.cookieKeys).toEqual(['a'.repeat(32), 'b'.repeat(40)]);
  });

  test('IDP_MFA is optional by default, takes required, and refuses anything else in one line', () => {
    const optional = load({});
    expect(optional.ok && optional.config.mfa).toBe('optional');
    const required = load({ IDP_MFA: 'required' });
    expect(required.ok && required.config.mfa).toBe('required');
    expect(errorsOf(load({ IDP_MFA: 'sometimes' }))).toEqual(['mfa (IDP_MFA): must be optional or required']);
  });

  test('each bad value gives one line naming the setting and its variable', () => {
    const errors = errorsOf(load({ PORT: 'eighty', TRUST_PROXY: 'maybe' }));
    expect(errors).toEqual([
      'port (PORT): must be a whole number, got "eighty"',
      'trustProxy (TRUST_PROXY): must be true or false, got "maybe"',
    ]);
  });

  test('schema problems are all reported at once', () => {
    const errors = errorsOf(
      load({ PORT: '70000', ISSUER: 'ftp://x', IDP_ARGON2_MEMORY_KIB: '1024', IDP_ARGON2_TIME_COST: '1', REDIS_URL: 'localhost:6379' }),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        'port (PORT): must be between 0 and 65535',
        expect.stringMatching(/^issuer \(ISSUER\): must be an absolute http\(s\) URL/),
        'argon2.memoryCost (IDP_ARGON2_MEMORY_KIB): must be at least 19456 KiB (OWASP minimum)',
        'argon2.timeCost (IDP_ARGON2_TIME_COST): must be at least 2 (OWASP minimum)',
        expect.stringMatching(/^redisUrl \(REDIS_URL\): must be a redis:\/\/ or rediss:\/\/ URL, or a Sentinel URL/),
      ]),
    );
    expect(errors).toHaveLength(5);
  });

  test('production refuses to start without stores, keys and an https issuer', () => {
    const errors = errorsOf(load({ NODE_ENV: 'production', ISSUER: 'http://id.example.com' }));
    expect(errors).toEqual(
      expect.arrayContaining([
        'mongodbUri (MONGODB_URI): is required: production needs MongoDB for users',
        'redisUrl (REDIS_URL): is required: production needs Redis for sessions and tokens (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES)',
        expect.stringMatching(/^cookieKeys \(IDP_COOKIE_KEYS\): is required/),
        expect.stringMatching(/^jwks \(IDP_JWKS\): is required/),
        'smtpUrl (SMTP_URL): is required: production needs a mail server for verification and password reset emails',
        'clientSecretKeys (IDP_CLIENT_SECRET_KEYS): is required: production needs a key to encrypt the client secrets stored in MongoDB',
        'issuer (ISSUER): must use https in production',
      ]),
    );
  });

  test('a public JWKS, or one without an RSA key, is refused with the reason', () => {
    const publicOnly = JSON.stringify({ keys: [{ kty: 'RSA', kid: 'a', n: 'x', e: 'AQAB' }] });
    expect(errorsOf(load({ IDP_JWKS: publicOnly }))).toEqual([
      expect.stringMatching(/^jwks\.keys\.0\.d \(IDP_JWKS\): each key must be a private key/),
    ]);
    const ecOnly = JSON.stringify({ keys: [{ kty: 'EC', kid: 'a', d: 'x' }] });
    expect(errorsOf(load({ IDP_JWKS: ecOnly }))).toEqual([expect.stringMatching(/^jwks \(IDP_JWKS\): must hold an RSA key/)]);
    expect(errorsOf(load({ IDP_JWKS: '{not json' }))).toEqual(['jwks (IDP_JWKS): must be valid JSON; generate a value with npm run keys']);
  });

  test('secrets can come from *_FILE, and an unreadable file is named', () => {
    const files: Record<string, string> = { '/run/secrets/cookie': `${'k'.repeat(48)}\n` };
    const readFile = (path: string) => {
      const text = files[path];
      if (text !== undefined) return text;
      if (path.startsWith(CONFIG_DIR)) return readFileSync(path, 'utf8');
      throw new Error('ENOENT');
    };
    const result = load({ IDP_COOKIE_KEYS_FILE: '/run/secrets/cookie' }, readFile);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.cookieKeys).toEqual(['k'.repeat(48)]);
    expect(errorsOf(load({ IDP_JWKS_FILE: '/nope' }, readFile))).toEqual(['jwks (IDP_JWKS_FILE): cannot read /nope']);
  });

  test('empty variables count as unset', () => {
    const result = load({ MONGODB_URI: '', REDIS_URL: '  ' });
    expect(result.ok && result.config.mongodbUri === undefined && result.config.redisUrl === undefined).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { OpUnderTest, planClient } from './support/op-under-test.ts';

/**
 * The Config OP plan (`oidcc-config-certification-test-plan`): its one module checks the discovery
 * document as OpenID Connect Discovery 1.0 §3 and §4 define it.
 */
describe('oidcc-config-certification-test-plan', () => {
  let op: OpUnderTest;

  beforeAll(async () => {
    op = await OpUnderTest.start('conformance-config', [planClient('client')]);
  });
  afterAll(async () => {
    await op?.close();
  });

  test('oidcc-discovery-endpoint-verification', async () => {
    const url = `${op.issuer}/.well-known/openid-configuration`;
    const response = await op.browser().request(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(url.startsWith('https://')).toBe(true);
    const metadata = (await response.json()) as Record<string, unknown>;

    // issuer: identical to the URL discovery was fetched from, minus the well-known suffix (§4.3).
    expect(metadata.issuer).toBe(op.issuer);
    expect(new URL(String(metadata.issuer)).protocol).toBe('https:');

    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.subject_types_supported).toEqual(expect.arrayContaining(['public']));
    expect(metadata.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256']));
    expect(metadata.id_token_signing_alg_values_supported).not.toContain('none');
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid']));
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
    expect(metadata.grant_types_supported).not.toContain('implicit');
    expect(metadata.grant_types_supported).not.toContain('password');
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.claims_supported).toEqual(
      expect.arrayContaining([
        'sub',
        'name',
        'preferred_username',
        'email',
        'email_verified',
        'updated_at',
        'auth_time',
        'acr',
        'amr',
        'sid',
      ]),
    );
    expect(metadata.claims_parameter_supported).toBe(true);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);

    // Every endpoint is present and https.
    for (const name of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) {
      expect(metadata[name]).toEqual(expect.stringMatching(/^https:\/\//));
    }
    const endpoints = Object.entries(metadata).filter(([name]) => name.endsWith('_endpoint'));
    expect(endpoints.length).toBeGreaterThanOrEqual(6);
    for (const [name, value] of endpoints) expect([name, value]).toEqual([name, expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\//)]);

    // Locales, when listed, are BCP 47 tags.
    for (const name of ['ui_locales_supported', 'claims_locales_supported']) {
      const locales = metadata[name];
      if (locales === undefined) continue;
      expect(Array.isArray(locales)).toBe(true);
      for (const tag of locales as unknown[]) expect(tag).toEqual(expect.stringMatching(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/));
    }

    // jwks_uri serves usable public keys, and no private parts.
    const jwks = (await op.fetchJson(String(metadata.jwks_uri))) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys.some((key) => key.kty === 'RSA' && key.use === 'sig' && typeof key.kid === 'string')).toBe(true);
    for (const key of jwks.keys) for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key[secret]).toBeUndefined();
  });
});

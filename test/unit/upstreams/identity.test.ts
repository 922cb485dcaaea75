import { describe, expect, test } from '@jest/globals';
import type { OAuth2Upstream, Upstream } from '../../../src/config/upstreams-schema.ts';
import { identityFromClaims, identityFromGitHubShape, proposeUsername } from '../../../src/upstreams/identity.ts';

const openId = (trustEmail: boolean): Upstream => ({
  id: 'example',
  type: 'oidc',
  name: 'Example',
  issuer: 'https://id.example.com',
  clientId: 'c',
  trustEmail,
});
const github: OAuth2Upstream = {
  id: 'github',
  type: 'oauth2',
  name: 'GitHub',
  authorizationEndpoint: 'https://github.com/login/oauth/authorize',
  tokenEndpoint: 'https://github.com/login/oauth/access_token',
  userinfoEndpoint: 'https://api.github.com/user',
  clientId: 'c',
  trustEmail: true,
  claims: { sub: 'id', preferred_username: 'login', name: 'name', email: 'email' },
};

describe('what an upstream says about the person', () => {
  test('an email counts as verified only when the upstream says so and the operator trusts it', () => {
    const claims = { sub: 'abc', email: 'Ada@Example.com', email_verified: true };
    expect(identityFromClaims(openId(true), 'https://id.example.com', claims)).toMatchObject({
      email: 'ada@example.com',
      emailVerified: true,
    });
    expect(identityFromClaims(openId(false), 'https://id.example.com', claims).emailVerified).toBe(false);
    expect(identityFromClaims(openId(true), 'https://id.example.com', { ...claims, email_verified: false }).emailVerified).toBe(false);
    expect(identityFromClaims(openId(true), 'https://id.example.com', { ...claims, email_verified: 'true' }).emailVerified).toBe(true);
    expect(
      identityFromClaims(openId(true), 'https://id.example.com', { sub: 'abc', email: 'not an address', email_verified: true }),
    ).toEqual({
      upstream: 'example',
      issuer: 'https://id.example.com',
      subject: 'abc',
      emailVerified: false,
    });
  });

  test('without a usable subject there is no identity', () => {
    for (const sub of [undefined, '', 'a'.repeat(256), 'line\nbreak', 1.5, { id: 1 }]) {
      expect(() => identityFromClaims(openId(true), 'https://id.example.com', { sub })).toThrow('no usable sub');
    }
  });

  test("GitHub's shape: the numeric id, the login, and the primary address from the list", () => {
    const user = { id: 583231, login: 'octocat', name: 'The Octocat', email: null };
    const emails = [
      { email: 'other@example.com', primary: false, verified: true },
      { email: 'octocat@github.com', primary: true, verified: false },
    ];
    expect(identityFromGitHubShape(github, 'https://github.com', user, emails)).toEqual({
      upstream: 'github',
      issuer: 'https://github.com',
      subject: '583231',
      email: 'octocat@github.com',
      emailVerified: false,
      name: 'The Octocat',
      username: 'octocat',
    });
    expect(identityFromGitHubShape(github, 'https://github.com', user, [])).not.toHaveProperty('email');
    expect(() => identityFromGitHubShape(github, 'https://github.com', { login: 'x' }, undefined)).toThrow('no usable "id"');
  });

  test('a dotted path reaches into nested documents', () => {
    const nested: OAuth2Upstream = { ...github, claims: { sub: 'data.user.id', preferred_username: 'data.user.handle' } };
    expect(
      identityFromGitHubShape(nested, 'https://x.example', { data: { user: { id: 'u-1', handle: 'nested' } } }, undefined),
    ).toMatchObject({
      subject: 'u-1',
      username: 'nested',
    });
  });

  test('a proposed username fits our format, from the preferred username or else the address', () => {
    expect(proposeUsername('octo-cat')).toBe('octo-cat');
    expect(proposeUsername('José Müller')).toBe('JoseMuller');
    expect(proposeUsername(undefined, 'grace.hopper+ids@example.com')).toBe('grace.hopperids');
    expect(proposeUsername('李', 'ab@example.com')).toBeUndefined();
    expect(proposeUsername('x'.repeat(50))).toBe('x'.repeat(32));
  });
});

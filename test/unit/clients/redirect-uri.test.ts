import { describe, expect, test } from '@jest/globals';
import { redirectUriProblem } from '../../../src/clients/redirect-uri.ts';
import { parseStaticClients } from '../../../src/clients/static-clients.ts';

describe('redirect URI rules', () => {
  test.each([
    'https://app.example.com/callback',
    'https://app.example.com/callback?tenant=1',
    'http://localhost:8080/callback',
    'http://127.0.0.1/cb',
    'http://[::1]:3000/cb',
    'com.example.app:/oauth2redirect',
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  test.each([
    ['/callback', /not an absolute URL/],
    ['https://app.example.com/cb#frag', /must not contain a fragment/],
    ['http://app.example.com/cb', /must use https/],
    ['http://localhost.evil.com/cb', /must use https/],
    ['javascript:alert(1)', /must use https/],
  ])('refuses %s', (uri, message) => {
    expect(redirectUriProblem(uri)).toMatch(message);
  });
});

describe('clients file', () => {
  test('parses an array of clients', () => {
    const result = parseStaticClients(JSON.stringify([{ client_id: 'a', redirect_uris: ['https://a.example/cb'] }]));
    expect(result).toEqual({ ok: true, clients: [{ client_id: 'a', redirect_uris: ['https://a.example/cb'] }] });
  });

  test.each([
    ['{', /not valid JSON/],
    ['{}', /JSON array/],
    ['[{}]', /entry 0 needs a client_id/],
    ['[{"client_id":"a"},{"client_id":"a"}]', /appears twice/],
    ['[{"client_id":"a","redirect_uris":["http://a.example/cb"]}]', /client "a": .*must use https/],
    ['[{"client_id":"a","post_logout_redirect_uris":["https://a.example/#x"]}]', /fragment/],
  ])('refuses %s', (text, message) => {
    const result = parseStaticClients(text);
    expect(!result.ok && result.error).toMatch(message);
  });
});

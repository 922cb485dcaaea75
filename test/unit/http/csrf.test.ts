import { describe, expect, test } from '@jest/globals';
import { createCsrf } from '../../../src/http/csrf.ts';

const keyA = 'a'.repeat(43);
const keyB = 'b'.repeat(43);

describe('csrf tokens', () => {
  const csrf = createCsrf([keyA]);

  test('a token verifies for its own binding only', () => {
    const token = csrf.issue('interaction-1');
    expect(csrf.verify('interaction-1', token)).toBe(true);
    expect(csrf.verify('interaction-2', token)).toBe(false);
  });

  test('tokens are random per issue', () => {
    expect(csrf.issue('x')).not.toBe(csrf.issue('x'));
  });

  test.each([undefined, '', 'abc', 'a.b', 'a.b.c', 'x'.repeat(500), 42])('refuses the malformed token %j', (token) => {
    expect(csrf.verify('interaction-1', token)).toBe(false);
  });

  test('a token signed with another key is refused; after rotation old tokens still verify', () => {
    const other = createCsrf([keyB]);
    const token = other.issue('interaction-1');
    expect(csrf.verify('interaction-1', token)).toBe(false);
    const rotated = createCsrf([keyA, keyB]);
    expect(rotated.verify('interaction-1', token)).toBe(true);
  });

  test('a tampered signature is refused', () => {
    const token = csrf.issue('interaction-1');
    const [nonce, signature = ''] = token.split('.');
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    expect(csrf.verify('interaction-1', `${nonce}.${flipped}`)).toBe(false);
  });
});

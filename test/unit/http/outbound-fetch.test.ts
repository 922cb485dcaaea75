import type { LookupAddress, lookup } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createOutboundFetch, isSpecialUseAddress } from '../../../src/http/outbound-fetch.ts';

describe('outbound fetch (SSRF guard for calls to upstream providers)', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_request, response) => response.end('reached'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  test.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['[::1]', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.0.0.1', true],
    ['8.8.8.8', false],
    ['140.82.112.3', false],
    ['2606:4700::1111', false],
    ['::ffff:8.8.8.8', false],
    ['github.com', false],
  ])('%s is special-use: %s', (address, expected) => {
    expect(isSpecialUseAddress(address)).toBe(expected);
  });

  test('a loopback address, by number or by name, is refused unless listed', async () => {
    const guarded = createOutboundFetch({ allowedPrivateHosts: [] });
    await expect(guarded(`http://127.0.0.1:${port}/`)).rejects.toThrow(`refused to call 127.0.0.1:${port}`);
    await expect(guarded(`http://localhost:${port}/`)).rejects.toThrow('private or loopback');
    await expect(guarded(`http://[::ffff:7f00:1]:${port}/`)).rejects.toThrow('private or loopback');
  });

  test('a name that resolves to loopback is refused when the connection is made', async () => {
    // A resolver that answers as a rebinding attacker's DNS would: only its answer can refuse the name.
    const asked: string[] = [];
    const resolve = ((hostname: string, _options: unknown, callback: (error: null, addresses: LookupAddress[]) => void) => {
      asked.push(hostname);
      callback(null, [{ address: '127.0.0.1', family: 4 }]);
    }) as unknown as typeof lookup;
    const guarded = createOutboundFetch({ allowedPrivateHosts: [], resolve });
    const refused = await guarded(`http://intranet.example.test:${port}/`).catch((error: Error) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(String((refused as Error & { cause?: Error }).cause?.message)).toContain(
      'resolves to a private or loopback address (127.0.0.1)',
    );
    expect(asked).toEqual(['intranet.example.test']);
  });

  test('a listed host:port is reached', async () => {
    const allowed = createOutboundFetch({ allowedPrivateHosts: [`127.0.0.1:${port}`] });
    const response = await allowed(`http://127.0.0.1:${port}/`);
    expect(await response.text()).toBe('reached');
  });
});

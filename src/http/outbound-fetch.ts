import { type LookupAddress, lookup as lookupHost } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';

/**
 * Addresses a server must not be made to call on someone's behalf (SSRF): loopback, private,
 * link-local, shared, documentation, benchmarking, multicast and reserved ranges, from IANA's
 * special-purpose address registries. oidc-provider guards its own outgoing requests the same way.
 * @see https://www.iana.org/assignments/iana-ipv4-special-registry/
 * @see https://www.iana.org/assignments/iana-ipv6-special-registry/
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html
 */
const SPECIAL_USE = new BlockList();
const IPV4_RANGES: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const IPV6_RANGES: Array<[string, number]> = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
];
for (const [network, prefix] of IPV4_RANGES) SPECIAL_USE.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of IPV6_RANGES) SPECIAL_USE.addSubnet(network, prefix, 'ipv6');

/** Whether an IP address (v4, v6, or v4 mapped into v6) is loopback, private or otherwise special-use. */
export function isSpecialUseAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped) return SPECIAL_USE.check(mapped, 'ipv4');
  const family = isIP(bare);
  if (family === 0) return false;
  return SPECIAL_USE.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** A host name that always means this machine, whatever DNS says. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** `host:port` of a URL, with the scheme's default port spelled out (the form IDP_OUTBOUND_PRIVATE_HOSTS uses). */
export function hostAndPort(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}

export class OutboundRefusedError extends Error {
  constructor(url: URL) {
    super(`refused to call ${hostAndPort(url)}: it is a private or loopback address (allow it in IDP_OUTBOUND_PRIVATE_HOSTS)`);
    this.name = 'OutboundRefusedError';
  }
}

export type OutboundFetch = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * fetch for requests this server makes to others' servers (upstream identity providers), under the
 * policy oidc-provider applies to its own (see outboundFetch in src/oidc/create-provider.ts): a host
 * that is, or resolves to, a special-use address is refused unless the operator listed its
 * `host:port` in IDP_OUTBOUND_PRIVATE_HOSTS. The address is checked when the connection is made
 * (the resolver's answer, not an earlier one), so DNS rebinding cannot slip past.
 */
export function createOutboundFetch({
  allowedPrivateHosts,
  timeoutMs = 10_000,
  resolve = lookupHost,
}: {
  allowedPrivateHosts: readonly string[];
  timeoutMs?: number;
  /** The resolver behind the check (dns.lookup; tests give their own answers). */
  resolve?: typeof lookupHost;
}): OutboundFetch {
  const allowed = new Set(allowedPrivateHosts.map((entry) => entry.toLowerCase()));
  const open = new Agent();
  const guarded = new Agent({ connect: { lookup: publicOnlyLookup(resolve) } });
  return async function outboundFetch(input, init = {}) {
    const url = new URL(input);
    const signal = init.signal ?? AbortSignal.timeout(timeoutMs);
    if (allowed.has(hostAndPort(url).toLowerCase())) {
      return (await undiciFetch(url, { ...toUndici(init), signal, dispatcher: open })) as unknown as Response;
    }
    // An address literal is never looked up, so the resolver below would not see it.
    if (isSpecialUseAddress(url.hostname) || isLoopbackName(url.hostname)) throw new OutboundRefusedError(url);
    return (await undiciFetch(url, { ...toUndici(init), signal, dispatcher: guarded })) as unknown as Response;
  };
}

/** The request options undici's fetch takes: the same fields as the platform's, typed by undici. */
function toUndici(init: RequestInit): Parameters<typeof undiciFetch>[1] {
  return init as Parameters<typeof undiciFetch>[1];
}

/** A lookup that fails for special-use answers; the socket calls it for every connection it opens. */
const publicOnlyLookup =
  (resolve: typeof lookupHost): LookupFunction =>
  (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const refused = addresses.find((entry) => isSpecialUseAddress(entry.address));
      if (refused || addresses.length === 0) {
        const denied = Object.assign(new Error(`${hostname} resolves to a private or loopback address (${refused?.address ?? 'none'})`), {
          code: 'ERR_SPECIAL_USE_ADDRESS',
        });
        callback(denied, '', 0);
        return;
      }
      if (options.all) {
        (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const [first] = addresses;
      callback(null, first?.address ?? '', first?.family ?? 4);
    });
  };

import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobinProxy {
  url: string;
  /** Which upstream answered each request, in order. */
  served: string[];
  setUpstreams(upstreams: string[]): void;
  /** Sends every request whose path starts with `prefix` to upstream `index` (undefined: round robin again). */
  pin(prefix: string, index: number | undefined): void;
  close(): Promise<void>;
}

/**
 * A load balancer in front of several instances of the server: each request goes to the next
 * upstream in turn, so one sign-in's requests are spread over all of them.
 */
export async function startRoundRobinProxy(): Promise<RoundRobinProxy> {
  let upstreams: string[] = [];
  let next = 0;
  const pins = new Map<string, number>();
  const served: string[] = [];
  const pick = (path: string) => {
    for (const [prefix, index] of pins) if (path.startsWith(prefix)) return upstreams[index];
    next += 1;
    return upstreams[(next - 1) % upstreams.length];
  };
  const server: Server = createServer((incoming, outgoing) => {
    const upstream = pick(incoming.url ?? '/');
    if (!upstream) {
      outgoing.writeHead(502).end();
      return;
    }
    served.push(upstream);
    const target = new URL(upstream);
    const forwarded = request(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    setUpstreams(list) {
      upstreams = list;
    },
    pin(prefix, index) {
      if (index === undefined) pins.delete(prefix);
      else pins.set(prefix, index);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

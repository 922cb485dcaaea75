import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobinProxy {
  url: string;
  /** Which upstream answered each request, in order. */
  served: string[];
  /** Requests that reached an upstream and got no answer from it (502), in order. */
  failed: Array<{ upstream: string; path: string }>;
  setUpstreams(upstreams: string[]): void;
  /** Sends every request whose path starts with `prefix` to upstream `index` (undefined: round robin again). */
  pin(prefix: string, index: number | undefined): void;
  close(): Promise<void>;
}

/**
 * A load balancer in front of several instances of the server: each request goes to the next
 * upstream in turn, so one sign-in's requests are spread over all of them. Like a real one with
 * passive health checks, it takes an upstream that refuses connections out of the rotation and
 * sends the request to the next one (it never reached the refused one, so this is safe even for a
 * POST); a request that reached an upstream which then died answers 502.
 */
export async function startRoundRobinProxy(): Promise<RoundRobinProxy> {
  let upstreams: string[] = [];
  const down = new Set<string>();
  let next = 0;
  const pins = new Map<string, number>();
  const served: string[] = [];
  const failed: RoundRobinProxy['failed'] = [];
  const pick = (path: string) => {
    for (const [prefix, index] of pins) if (path.startsWith(prefix)) return upstreams[index];
    const live = upstreams.filter((upstream) => !down.has(upstream));
    next += 1;
    return live[(next - 1) % live.length];
  };
  const server: Server = createServer(async (incoming, outgoing) => {
    // The body is read first, so a request can be sent again to another upstream.
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = incoming.url ?? '/';
    const forward = (attempt: number) => {
      const upstream = pick(path);
      if (!upstream) {
        outgoing.writeHead(502).end();
        return;
      }
      const target = new URL(upstream);
      const forwarded = request(
        { host: target.hostname, port: target.port, method: incoming.method, path, headers: incoming.headers },
        (answer) => {
          served.push(upstream);
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED' && attempt < upstreams.length) {
          down.add(upstream);
          forward(attempt + 1);
          return;
        }
        failed.push({ upstream, path });
        if (!outgoing.headersSent) outgoing.writeHead(502);
        outgoing.end();
      });
      forwarded.end(body);
    };
    forward(1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    failed,
    setUpstreams(list) {
      upstreams = list;
      down.clear();
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

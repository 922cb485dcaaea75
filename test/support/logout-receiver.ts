import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from './eventually.ts';

export interface LogoutReceiver {
  /** Where the client registers its backchannel_logout_uri. */
  url: string;
  /** host:port, for IDP_OUTBOUND_PRIVATE_HOSTS. */
  host: string;
  /** Every logout_token POSTed so far, in order. */
  tokens: string[];
  /** Every request as received: method, content type and form fields. */
  requests: Array<{ method: string; contentType: string; fields: Record<string, string> }>;
  /** Resolves once `count` tokens have arrived, or after ~2 s. */
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP receiver for back-channel logout tokens, on loopback, as an app would run one. */
export async function startLogoutReceiver(): Promise<LogoutReceiver> {
  const tokens: string[] = [];
  const requests: LogoutReceiver['requests'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const fields = Object.fromEntries(new URLSearchParams(body));
      requests.push({ method: req.method ?? '', contentType: req.headers['content-type'] ?? '', fields });
      if (req.method === 'POST' && fields.logout_token) tokens.push(fields.logout_token);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/backchannel_logout`,
    host: `127.0.0.1:${port}`,
    tokens,
    requests,
    async waitFor(count) {
      await eventually(
        async () => tokens.length,
        (received) => received >= count,
        2000,
      );
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

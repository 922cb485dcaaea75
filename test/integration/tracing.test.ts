import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { freePort } from '../../scripts/lib/local-services.ts';
import { dropIsolation, isolation } from '../support/backends.ts';
import {
  allowConsent,
  newAccount,
  openAuthorization,
  RelyingParty,
  registerAndConsent,
  rpClient,
  signInFrom,
} from '../support/relying-party.ts';
import { type ServerProcess, spawnServer, waitUntilReady } from '../support/server-process.ts';
import { expectPage, UserAgent } from '../support/user-agent.ts';

jest.setTimeout(60_000);

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
  links?: Array<{ traceId: string; spanId: string }>;
  scope: string;
}
interface OtlpRequest {
  resourceSpans: Array<{ scopeSpans: Array<{ scope?: { name?: string }; spans: Array<Omit<OtlpSpan, 'scope'>> }> }>;
}
const SERVER = 2;

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes?.find((entry) => entry.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : String(value.intValue));
};
const pathOf = (span: OtlpSpan) => (attribute(span, 'url.path') ?? attribute(span, 'http.target') ?? '').split('?')[0] ?? '';

/**
 * The real server (`node src/main.ts`, as npm start runs it) with OTEL_EXPORTER_OTLP_ENDPOINT set
 * to an OTLP/HTTP receiver in this test: one sign-in is one trace, from the authorization request
 * to the token response, with its Redis and MongoDB spans, the request id on every span, and the
 * trace id in the log lines.
 */
describe('tracing', () => {
  const scope = isolation('tracing');
  const client = rpClient();
  const received: OtlpSpan[] = [];
  let receiver: Server;
  let server: ServerProcess;
  let workDir: string;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url === '/v1/traces') {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest;
          for (const resource of body.resourceSpans)
            for (const scoped of resource.scopeSpans)
              for (const span of scoped.spans) received.push({ ...span, scope: scoped.scope?.name ?? '' });
        }
        response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    workDir = mkdtempSync(join(tmpdir(), 'idp-tracing-'));
    const clientsFile = join(workDir, 'clients.json');
    writeFileSync(clientsFile, JSON.stringify([client]));
    const port = await freePort();
    server = spawnServer({
      PORT: String(port),
      ISSUER: `http://127.0.0.1:${port}`,
      MONGODB_URI: scope.mongodbUri,
      REDIS_URL: scope.redisUrl,
      IDP_REDIS_KEY_PREFIX: scope.redisKeyPrefix,
      IDP_CLIENTS_FILE: clientsFile,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    await waitUntilReady(server, 30_000);
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
    rmSync(workDir, { recursive: true, force: true });
    await dropIsolation(scope);
  });

  test('one sign-in is one connected trace: /auth, the login and consent pages, back at /auth, and the token response', async () => {
    const rp = await RelyingParty.discover(`http://127.0.0.1:${server.port}`, client);
    const account = newAccount('traced');
    const first = await rp.authorize();
    await rp.exchange(first, await registerAndConsent(new UserAgent(), first, account));

    const agent = new UserAgent();
    const authorization = await rp.authorize();
    const loginPage = await openAuthorization(agent, authorization);
    const consent = expectPage(await signInFrom(agent, loginPage, account.username, account.password));
    await rp.exchange(authorization, await allowConsent(agent, consent));
    // SIGTERM flushes the spans still buffered.
    expect(await server.stop()).toBe(0);

    const login = received.find((span) => span.kind === SERVER && pathOf(span).endsWith('/login'));
    expect(login).toBeDefined();
    const traceId = String(login?.traceId);
    const spans = received.filter((span) => span.traceId === traceId);
    const servers = spans.filter((span) => span.kind === SERVER).map(pathOf);
    // The whole browser leg of this sign-in, and nothing of the registration before it.
    expect(servers[0]).toBeDefined();
    expect(servers).toContain('/auth');
    expect(servers.filter((path) => /^\/interaction\/[^/]+$/.test(path)).length).toBeGreaterThanOrEqual(2); // login page, consent page
    expect(servers.some((path) => /^\/interaction\/[^/]+\/confirm$/.test(path))).toBe(true);
    expect(servers.some((path) => /^\/auth\/[^/]+$/.test(path))).toBe(true); // the resume that issued the code
    expect(servers.filter((path) => path.endsWith('/register'))).toEqual([]);

    // Connected: one root, every other span's parent is in the trace.
    const ids = new Set(spans.map((span) => span.spanId));
    const roots = spans.filter((span) => !span.parentSpanId);
    expect(roots.map(pathOf)).toEqual(['/auth']);
    expect(spans.filter((span) => span.parentSpanId && !ids.has(span.parentSpanId))).toEqual([]);

    // Its Redis and MongoDB work, and the koa middleware, are in it.
    const scopes = new Set(spans.map((span) => span.scope));
    for (const instrumentation of ['instrumentation-http', 'instrumentation-koa', 'instrumentation-ioredis', 'instrumentation-mongodb'])
      expect([...scopes].some((name) => name.endsWith(instrumentation))).toBe(true);

    // The token response belongs to the sign-in's trace, linked to the token request's own trace.
    const tokenResponse = spans.find((span) => span.name === 'token response');
    const link = tokenResponse?.links?.[0];
    expect(link).toBeDefined();
    const tokenRequest = received.find((span) => span.traceId === link?.traceId && span.kind === SERVER);
    expect(tokenRequest && pathOf(tokenRequest)).toBe('/token');

    // Every span carries the id of its request.
    expect(spans.filter((span) => !attribute(span, 'idp.request_id')).map((span) => span.name)).toEqual([]);
    const loginRequestId = String(login && attribute(login, 'idp.request_id'));
    const lines = server
      .output()
      .stdout.split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // And the log lines of the sign-in carry the trace id, next to the request id.
    const loginLines = lines.filter((line) => line.requestId === loginRequestId);
    expect(loginLines.map((line) => line.event ?? line.msg)).toEqual(expect.arrayContaining(['login.succeeded', 'request']));
    for (const line of loginLines) expect(line.traceId).toBe(traceId);
  });
});

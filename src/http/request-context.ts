import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { runInRequestScope } from '../logging/request-scope.ts';
import { PROBE_PATHS } from './health.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * Gives every request an id (a well-formed incoming X-Request-Id is kept) and runs the rest of it
 * in its request scope, so every log line and security event written meanwhile carries the id (and
 * the client and account once known); ends with one access log line (none for health probes). Only
 * the path is logged: query strings carry codes and tokens.
 *
 * The access line holds only fields written here and the scope's ids (no query, no header, no body),
 * so it is written without the redaction pass, which costs several times the line itself; every
 * other line keeps it.
 */
export function requestContext(logger: Logger): Middleware {
  const accessLog = logger.child({}, { redact: [] });
  return function requestContextMiddleware(ctx, next) {
    const incoming = ctx.get('X-Request-Id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.logger = logger;
    ctx.set('X-Request-Id', requestId);
    const userAgent = ctx.get('User-Agent') || undefined;
    const atEnd: Array<() => void> = [];
    return runInRequestScope({ requestId, ip: ctx.ip, userAgent, atEnd }, async () => {
      const started = performance.now();
      try {
        await next();
      } finally {
        for (const done of atEnd) done();
        // Health probes come every few seconds from load balancers and orchestrators: no access log line for them.
        if (!PROBE_PATHS.has(ctx.path)) logRequest(accessLog, ctx, started);
      }
    });
  };
}

function logRequest(logger: Logger, ctx: Parameters<Middleware>[0], started: number): void {
  const ms = Math.round((performance.now() - started) * 10) / 10;
  logger.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, 'request');
}

import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { PROBE_PATHS } from './health.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * Gives every request an id (a well-formed incoming X-Request-Id is kept), a child logger, and one
 * access log line (none for health probes). Only the path is logged: query strings carry codes and tokens.
 */
export function requestContext(logger: Logger): Middleware {
  return async function requestContextMiddleware(ctx, next) {
    const incoming = ctx.get('X-Request-Id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.logger = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      // Health probes come every few seconds from load balancers and orchestrators: no access log line for them.
      if (!PROBE_PATHS.has(ctx.path)) logRequest(ctx, started);
    }
  };
}

function logRequest(ctx: Parameters<Middleware>[0], started: number): void {
  const ms = Math.round((performance.now() - started) * 10) / 10;
  (ctx.state.logger as Logger).info({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, 'request');
}

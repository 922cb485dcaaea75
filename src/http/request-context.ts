import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { PROBE_PATHS } from './health.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * Gives every request an id (a well-formed incoming X-Request-Id is kept), a child logger, and one
 * access log line (none for health probes). Only the path is logged: query strings carry codes and tokens.
 *
 * The child logger (`ctx.state.logger`) is made when first used: most requests log nothing but
 * their access line. The access line holds only fields written here (no query, no header, no body),
 * so it is written without the redaction pass, which costs several times the line itself; every
 * other line keeps it.
 */
export function requestContext(logger: Logger): Middleware {
  const accessLog = logger.child({}, { redact: [] });
  return async function requestContextMiddleware(ctx, next) {
    const incoming = ctx.get('X-Request-Id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'logger', {
      configurable: true,
      enumerable: false,
      get: () => {
        child ??= logger.child({ requestId });
        return child;
      },
    });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      // Health probes come every few seconds from load balancers and orchestrators: no access log line for them.
      if (!PROBE_PATHS.has(ctx.path)) {
        const ms = Math.round((performance.now() - started) * 10) / 10;
        accessLog.info({ requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms }, 'request');
      }
    }
  };
}

import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { PROBE_PATHS } from './health.ts';

/**
 * With an https issuer, a request that arrives as plain http means a misconfigured deployment (most
 * often a TLS-terminating proxy without TRUST_PROXY=true): cookies would lose `Secure` and URLs would
 * point at http. Such requests are refused with a message naming the setting, not served half-broken.
 * Health probes from a load balancer on the internal network still answer.
 */
export function httpsGuard(issuer: string, logger: Logger): Middleware {
  const https = new URL(issuer).protocol === 'https:';
  let warned = false;
  return async function requireHttps(ctx, next) {
    if (!https || ctx.secure || PROBE_PATHS.has(ctx.path)) {
      await next();
      return;
    }
    if (!warned) {
      warned = true;
      logger.warn('ISSUER is https but a request arrived over plain http; behind a TLS-terminating proxy set TRUST_PROXY=true');
    }
    ctx.status = 403;
    ctx.type = 'text/plain';
    ctx.body = 'This server accepts HTTPS only (ISSUER is https). Behind a TLS-terminating proxy, set TRUST_PROXY=true.\n';
  };
}

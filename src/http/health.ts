import Router from '@koa/router';
import { noStore } from './no-store.ts';

const LIVENESS = '/healthz';
const READINESS = '/readyz';
/** The probes' paths, for the middleware that treats them apart (the https guard, the access log). */
export const PROBE_PATHS: ReadonlySet<string> = new Set([LIVENESS, READINESS]);

/**
 * /healthz: the process is up (no I/O; for liveness and the Docker HEALTHCHECK).
 * /readyz: MongoDB and Redis answer (for load balancers), and the server is not stopping: from
 * SIGTERM on it says 503 while it still serves, so a load balancer moves traffic away first.
 */
export function createHealthRouter(ping: () => Promise<void>, stopping: () => boolean = () => false): Router {
  const router = new Router();
  router.use(noStore);
  router.get(LIVENESS, async function healthz(ctx) {
    ctx.body = { status: 'ok' };
  });
  router.get(READINESS, async function readyz(ctx) {
    if (stopping()) {
      ctx.status = 503;
      ctx.body = { status: 'stopping', reason: 'the server is shutting down' };
      return;
    }
    try {
      await ping();
      ctx.body = { status: 'ready' };
    } catch (error) {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', reason: error instanceof Error ? error.message : 'unknown' };
    }
  });
  return router;
}

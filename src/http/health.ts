import Router from '@koa/router';
import { noStore } from './no-store.ts';

/**
 * /healthz: the process is up (no I/O; for liveness and the Docker HEALTHCHECK).
 * /readyz: MongoDB and Redis answer (for load balancers), and the server is not stopping: from
 * SIGTERM on it says 503 while it still serves, so a load balancer moves traffic away first.
 */
export function createHealthRouter(ping: () => Promise<void>, stopping: () => boolean = () => false): Router {
  const router = new Router();
  router.use(noStore);
  router.get('/healthz', async function healthz(ctx) {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async function readyz(ctx) {
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

import { createServer, type Server } from 'node:http';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { AggregatorRegistry, Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { RecordedEvent, SecurityEvents } from '../audit/security-events.ts';
import { AppError } from '../errors.ts';
import type { StoreObserver } from '../storage/observer.ts';

/** What the server counts, in one Prometheus registry per server (tests run several in one process). */
export interface Metrics {
  registry: Registry;
  /** Counts every request by route template, method and status, and times it. */
  http: Middleware;
  /** Counts sign-ins, registrations and password resets from the security events recorded. */
  countSecurityEvents(events: Pick<SecurityEvents, 'subscribe'>): void;
  /** Counts the tokens the provider issues and its back-channel logout deliveries. */
  observe(provider: Provider): void;
  /** Times Redis and MongoDB commands, counts their errors, cache hits and misses, and connections lost. */
  stores: Required<StoreObserver>;
}

/**
 * Prometheus metrics (prom-client). Every label value is bounded: a route is a template (the
 * matched router path, e.g. /interaction/:uid/login or /token), never a raw path; no label carries a user id.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'idp_http_requests_total',
    help: 'HTTP requests by route template, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'idp_http_request_duration_seconds',
    help: 'HTTP request duration by route template and method',
    labelNames: ['route', 'method'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const signIns = new Counter({
    name: 'idp_sign_ins_total',
    help: 'Sign-in attempts by result',
    labelNames: ['result'],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'idp_tokens_issued_total',
    help: 'Token endpoint successes by grant type and client',
    labelNames: ['grant_type', 'client_id'],
    registers: [registry],
  });
  const backchannel = new Counter({
    name: 'idp_backchannel_logout_total',
    help: 'Back-channel logout deliveries by result',
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of ['succeeded', 'failed', 'throttled', 'second_factor_failed']) signIns.inc({ result }, 0);
  const registrations = new Counter({
    name: 'idp_registrations_total',
    help: 'Accounts created on the registration page, and registrations refused by the per-address limit',
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of ['succeeded', 'throttled']) registrations.inc({ result }, 0);
  const passwordResets = new Counter({
    name: 'idp_password_resets_total',
    help: 'Password reset requests (for any address), requests refused by a limit, and passwords reset with a link',
    labelNames: ['stage'],
    registers: [registry],
  });
  for (const stage of ['requested', 'throttled', 'completed']) passwordResets.inc({ stage }, 0);
  /** Which counter, with which label, each security event moves. */
  const counted: Partial<Record<RecordedEvent['type'], () => void>> = {
    'login.succeeded': () => signIns.inc({ result: 'succeeded' }),
    'login.failed': () => signIns.inc({ result: 'failed' }),
    'login.throttled': () => signIns.inc({ result: 'throttled' }),
    'login.second_factor_failed': () => signIns.inc({ result: 'second_factor_failed' }),
    'account.registered': () => registrations.inc({ result: 'succeeded' }),
    'registration.throttled': () => registrations.inc({ result: 'throttled' }),
    'password_reset.requested': () => passwordResets.inc({ stage: 'requested' }),
    'password_reset.throttled': () => passwordResets.inc({ stage: 'throttled' }),
    'password_reset.completed': () => passwordResets.inc({ stage: 'completed' }),
  };
  const storeCommands = new Histogram({
    name: 'idp_store_command_duration_seconds',
    help: 'Redis and MongoDB command latency by store and command (failed ones included)',
    labelNames: ['store', 'command'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: 'idp_store_command_errors_total',
    help: 'Redis and MongoDB commands that failed, by store and command',
    labelNames: ['store', 'command'],
    registers: [registry],
  });
  const connectionLosses = new Counter({
    name: 'idp_store_connection_losses_total',
    help: 'Connections to Redis or MongoDB lost (each outage once, however many requests it fails)',
    labelNames: ['store'],
    registers: [registry],
  });
  const cacheLookups = new Counter({
    name: 'idp_cache_lookups_total',
    help: 'Per-instance cache lookups by cache and result (hit, miss; bypass while the cache is off or its change feed is down)',
    labelNames: ['cache', 'result'],
    registers: [registry],
  });

  return {
    registry,
    http: async function countRequests(ctx, next) {
      const end = duration.startTimer();
      try {
        await next();
      } finally {
        const route = routeOf(ctx);
        requests.inc({ route, method: ctx.method, status: String(ctx.status) });
        end({ route, method: ctx.method });
      }
    },
    countSecurityEvents(events) {
      events.subscribe((event) => counted[event.type]?.());
    },
    observe(provider) {
      provider.on('grant.success', (ctx) => {
        tokens.inc({ grant_type: String(ctx.oidc.params?.grant_type ?? 'unknown'), client_id: ctx.oidc.client?.clientId ?? 'unknown' });
      });
      provider.on('backchannel.success', () => backchannel.inc({ result: 'succeeded' }));
      provider.on('backchannel.error', () => backchannel.inc({ result: 'failed' }));
    },
    stores: {
      command(store, command, seconds, ok) {
        storeCommands.observe({ store, command }, seconds);
        if (!ok) storeErrors.inc({ store, command });
      },
      cacheLookup: (cache, result) => cacheLookups.inc({ cache, result }),
      connection(change) {
        if (change.state === 'lost') connectionLosses.inc({ store: change.store });
      },
    },
  };
}

/** A bounded route label: the matched router template (ours and oidc-provider's both use koa-router), else "other". */
function routeOf(ctx: Parameters<Middleware>[0]): string {
  // Answers made before any router (discovery and JWKS from their kept bytes) name their route themselves.
  if (typeof ctx.state.route === 'string') return ctx.state.route;
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  const providerRoute = (ctx as { oidc?: { route?: unknown } }).oidc?.route;
  if (typeof providerRoute === 'string') return `oidc:${providerRoute}`;
  return 'other';
}

/** What /metrics serves: one registry, or (in the supervisor of IDP_WORKERS) the sum of every worker's. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

/** In a worker of IDP_WORKERS: answer the supervisor's requests for this process's metrics (prom-client's cluster protocol). */
export function shareWithSupervisor(metrics: Metrics): void {
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
}

/** In the supervisor of IDP_WORKERS: every worker's metrics, summed per series (counters, histograms) by prom-client. */
export function workersMetrics(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  return { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() };
}

/** Serves GET /metrics on a port of its own (METRICS_PORT), apart from the public server; a port in use is a start-up error naming the setting. */
export function listenMetrics(source: MetricsSource, port: number, host?: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found: metrics are at GET /metrics\n');
      return;
    }
    source.metrics().then(
      (text) => response.writeHead(200, { 'Content-Type': source.contentType }).end(text),
      () => response.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new AppError(
          'startup',
          error.code === 'EADDRINUSE'
            ? `metricsPort (METRICS_PORT): ${port} is already in use; choose another METRICS_PORT`
            : `cannot serve metrics: ${error.message}`,
        ),
      );
    });
    server.listen(port, host, () => resolve(server));
  });
}

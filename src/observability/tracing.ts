import type { Config } from '../config/schema.ts';

export interface Tracing {
  /** Sends the spans still buffered; call before the process exits. */
  shutdown(): Promise<void>;
}

/** Modules the instrumentations patch when they are imported from ES modules (import-in-the-middle). */
const INSTRUMENTED = ['http', 'https', 'koa', 'ioredis', 'mongodb'];

/**
 * OpenTelemetry traces through the official SDK and its instrumentations for http, koa, ioredis
 * and mongodb, exported over OTLP/HTTP. Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then
 * nothing of OpenTelemetry's SDK is even loaded.
 *
 * The server is ES modules (TypeScript run by Node's type stripping), which the instrumentations
 * can only patch through loader hooks. Node 24 runs import-in-the-middle's hooks in-thread
 * (module.registerHooks), so they are registered here, at run time, and main imports the server's
 * modules only after this has resolved: no `--import` flag, so `node src/main.ts`, `npm start` and
 * the image's command stay as they are. Only the instrumented packages are intercepted.
 * @see https://github.com/open-telemetry/opentelemetry-js/blob/main/doc/esm-support.md
 * @see https://github.com/nodejs/import-in-the-middle#synchronous-loader-hooks
 */
export async function startTracing(settings: Config['tracing']): Promise<Tracing | undefined> {
  const { endpoint } = settings;
  if (!endpoint) return undefined;
  const { register, supportsSyncHooks } = await import('import-in-the-middle/register-hooks.mjs');
  if (!supportsSyncHooks()) throw new Error('tracing needs a Node.js with synchronous module hooks (24.11.1 or later)');
  register({ include: INSTRUMENTED });

  const [api, sdk, { AsyncLocalStorageContextManager }, core, { resourceFromAttributes }, { registerInstrumentations }] = await Promise.all(
    [
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/core'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/instrumentation'),
    ],
  );
  const [{ HttpInstrumentation }, { KoaInstrumentation }, { IORedisInstrumentation }, { MongoDBInstrumentation }] = await Promise.all([
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-koa'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-mongodb'),
  ]);
  const { RequestIdSpanProcessor } = await import('./request-id-span-processor.ts');
  const { SignInCookiePropagator } = await import('./sign-in-trace.ts');
  const { PROBE_PATHS } = await import('../http/health.ts');

  const url = `${endpoint.replace(/\/+$/, '')}/v1/traces`;
  const headers = Object.fromEntries(
    (settings.headers ?? []).map((header) => {
      const at = header.indexOf('=');
      return [decodeURIComponent(header.slice(0, at).trim()), decodeURIComponent(header.slice(at + 1).trim())];
    }),
  );
  const { OTLPTraceExporter } =
    settings.protocol === 'http/json'
      ? await import('@opentelemetry/exporter-trace-otlp-http')
      : await import('@opentelemetry/exporter-trace-otlp-proto');
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    // Each request's spans are kept whole: sampling, if wanted, belongs to the collector (tail sampling).
    sampler: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    spanProcessors: [new RequestIdSpanProcessor(), new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url, headers }) })],
  });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(
    new core.CompositePropagator({ propagators: [new core.W3CTraceContextPropagator(), new SignInCookiePropagator()] }),
  );
  api.trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    instrumentations: [
      // Health probes come every few seconds: no traces for them, as no access log lines.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => PROBE_PATHS.has(request.url?.split('?')[0] ?? '') }),
      new KoaInstrumentation(),
      new IORedisInstrumentation(),
      new MongoDBInstrumentation(),
    ],
  });
  return { shutdown: () => provider.shutdown() };
}

import cluster from 'node:cluster';
import { enableCompileCache } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AppError, isAppError } from './errors.ts';

// Node's compile cache (in the system's temporary directory, or NODE_COMPILE_CACHE) saves about a
// third of a second at the next start (0.85 s to ready against 1.18 s, bench/README.md). It must be
// on before the modules are compiled, so everything below is imported dynamically; that also keeps
// the supervisor of IDP_WORKERS from ever loading the server. https://nodejs.org/api/module.html#module-compile-cache
enableCompileCache();

const CONFIG_DIR = fileURLToPath(new URL('../config/', import.meta.url));

/**
 * The composition root: loadConfig -> serve (tracing -> assemble -> listen -> shutdown), or with
 * IDP_WORKERS the supervisor, which forks that many processes that each serve. Only this module
 * reads the environment.
 */
async function main(): Promise<void> {
  const { loadConfig } = await import('./config/load-config.ts');
  const loaded = loadConfig({ env: process.env, configDir: CONFIG_DIR });
  if (!loaded.ok) {
    for (const error of loaded.errors) process.stderr.write(`configuration error: ${error}\n`);
    process.exit(1);
  }
  const { config } = loaded;
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  if (workers > 1 && cluster.isPrimary) {
    const [{ createLogger }, { superviseWorkers }] = await Promise.all([import('./logging/create-logger.ts'), import('./workers.ts')]);
    await superviseWorkers({ count: workers, config, logger: createLogger(config.logLevel) });
    return;
  }
  const started = performance.now();
  // Tracing, when configured, must hook the instrumented packages before anything imports them, so
  // the server's modules are imported only after it started (and cost nothing more when it is off).
  const { startTracing } = await import('./observability/tracing.ts');
  const tracing = await startTracing(config.tracing).catch((error: unknown) => {
    throw new AppError('startup', `tracing (OTEL_EXPORTER_OTLP_ENDPOINT): ${(error as Error).message}`, { cause: error });
  });
  const [{ createLogger }, { serve }] = await Promise.all([import('./logging/create-logger.ts'), import('./serve.ts')]);
  const logger = createLogger(config.logLevel);
  const worker = cluster.worker?.id;
  await serve(config, worker === undefined ? logger : logger.child({ worker }), { worker, tracing, started, env: process.env });
}

main().catch((error: unknown) => {
  const message = isAppError(error, 'startup') ? error.message : `start-up failed: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});

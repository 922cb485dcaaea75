import cluster from 'node:cluster';
import { enableCompileCache } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isAppError } from './errors.ts';

// Node's compile cache (in the system's temporary directory, or NODE_COMPILE_CACHE) roughly halves
// the time spent loading modules at the next start. It must be on before they are compiled, so
// everything below is imported dynamically; that also keeps the supervisor of IDP_WORKERS from ever
// loading the server. https://nodejs.org/api/module.html#module-compile-cache
enableCompileCache();

const CONFIG_DIR = fileURLToPath(new URL('../config/', import.meta.url));

/**
 * The composition root: loadConfig -> serve (assemble -> listen -> shutdown), or with IDP_WORKERS
 * the supervisor, which forks that many processes that each serve. Only this module reads the
 * environment.
 */
async function main(): Promise<void> {
  const [{ loadConfig }, { createLogger }] = await Promise.all([import('./config/load-config.ts'), import('./logging/create-logger.ts')]);
  const loaded = loadConfig({ env: process.env, configDir: CONFIG_DIR });
  if (!loaded.ok) {
    for (const error of loaded.errors) process.stderr.write(`configuration error: ${error}\n`);
    process.exit(1);
  }
  const { config } = loaded;
  const logger = createLogger(config.logLevel);
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  if (workers > 1 && cluster.isPrimary) {
    const { superviseWorkers } = await import('./workers.ts');
    await superviseWorkers({ count: workers, config, logger });
    return;
  }
  const { serve } = await import('./serve.ts');
  await serve(config, cluster.isWorker ? logger.child({ worker: cluster.worker?.id }) : logger, { worker: cluster.worker?.id });
}

main().catch((error: unknown) => {
  const message = isAppError(error, 'startup') ? error.message : `start-up failed: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});

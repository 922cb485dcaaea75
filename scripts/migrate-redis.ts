/**
 * Moves the server's records in Redis from the key layout of earlier releases to the current one,
 * so an upgrade signs nobody out: npm run migrate-redis [-- --dry-run] [--json]
 * Reads REDIS_URL (or REDIS_SENTINELS) and IDP_REDIS_KEY_PREFIX like the server.
 */
import { loadConfig } from '../src/config/load-config.ts';
import { redisTopology } from '../src/config/redis-topology.ts';
import { AppError } from '../src/errors.ts';
import { migrateRedisKeyLayout } from '../src/storage/redis/migrate-key-layout.ts';
import { CONFIG_DIR, parseCommandLine, print, runCli, type ToolHelp, usageError } from './lib/cli.ts';

const HELP: ToolHelp = {
  usage: 'npm run migrate-redis -- [--dry-run] [--json]',
  summary:
    'Moves sessions, grants and tokens in Redis from the key layout of releases before Redis Cluster support (oidc:<Model>:<id>) to the current one (oidc:<Model>:{<id>}), keeping every value and lifetime, so nobody is signed out by the upgrade. Run it once the new release runs (again after the last old instance stopped, when upgrading instance by instance); it is safe to run twice and while servers run. Reads REDIS_URL or REDIS_SENTINELS and IDP_REDIS_KEY_PREFIX like the server.',
  options: [
    ['--dry-run', 'count the keys to move, change nothing'],
    ['--json', 'print the counts as JSON'],
  ],
  example: 'npm run migrate-redis -- --dry-run',
};

await runCli('migrate-redis', async () => {
  const { values, positionals } = parseCommandLine({ 'dry-run': { type: 'boolean', default: false } }, HELP);
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"; usage: ${HELP.usage}`);
  const loaded = loadConfig({ env: process.env, configDir: CONFIG_DIR });
  if (!loaded.ok) throw new AppError('invalid_input', `configuration error: ${loaded.errors.join('; ')}`);
  const topology = redisTopology(loaded.config);
  if (!topology)
    throw new AppError('invalid_input', 'the migrate-redis tool needs REDIS_URL (or REDIS_SENTINELS): the Redis the server uses');
  const dryRun = values['dry-run'];
  const result = await migrateRedisKeyLayout(topology, loaded.config.redisKeyPrefix, { dryRun });
  print(
    values.json,
    { dryRun, ...result },
    dryRun
      ? `${result.found} keys of the earlier layout would be moved; nothing was changed.`
      : `${result.found} keys of the earlier layout: ${result.renamed} moved, ${result.merged} index sets merged, ${result.superseded} already replaced by the server.`,
  );
});

import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/schema.ts';

export const CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));

/** A configuration as the server would load it, with NODE_ENV=test and the given variables. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  const result = loadConfig({ env: { NODE_ENV: 'test', ...env }, configDir: CONFIG_DIR });
  if (!result.ok) throw new Error(`test configuration invalid:\n${result.errors.join('\n')}`);
  return result.config;
}

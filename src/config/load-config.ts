import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_TABLE, type EnvVariable, envNameFor } from './env-table.ts';
import { type Config, configSchema } from './schema.ts';
import { resolveUpstreamSecrets } from './upstreams-schema.ts';

export interface LoadConfigOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Directory holding default.json and <NODE_ENV>.json. */
  configDir: string;
  readFile?: (path: string) => string;
}

export type LoadConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ENVIRONMENTS = new Set(['development', 'test', 'production']);

/**
 * Builds the configuration from config/default.json, config/<NODE_ENV>.json and the environment,
 * in that order of precedence (last wins). Never throws: every problem is reported as one line,
 * `path (ENV_NAME): what is wrong`.
 */
export function loadConfig({ env, configDir, readFile = readText }: LoadConfigOptions): LoadConfigResult {
  const errors: string[] = [];
  const nodeEnv = present(env.NODE_ENV) ?? defaultEnvironment(env);

  const raw: JsonObject = {};
  for (const file of ['default.json', ENVIRONMENTS.has(nodeEnv) ? `${nodeEnv}.json` : undefined]) {
    if (!file) continue;
    const layer = readJsonLayer(join(configDir, file), readFile, file === 'default.json', errors);
    if (layer) deepMerge(raw, layer);
  }
  raw.env = nodeEnv;

  for (const variable of ENV_TABLE) {
    const text = readVariable(variable, env, readFile, errors);
    if (text === undefined) continue;
    const parsed = parseValue(variable, text);
    if (parsed.ok) setPath(raw, variable.path, parsed.value);
    else errors.push(`${variable.path.join('.')} (${variable.name}): ${parsed.message}`);
  }
  if (errors.length > 0) return { ok: false, errors };

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    return {
      ok: false,
      errors: result.error.issues.map((issue) => {
        const envName = envNameFor(issue.path);
        const where = issue.path.length > 0 ? issue.path.join('.') : 'config';
        return `${where}${envName ? ` (${envName})` : ''}: ${issue.message}`;
      }),
    };
  }
  const config = result.data;
  const upstreams = resolveUpstreamSecrets(config.upstreams, env, readFile);
  if (!upstreams.ok) return { ok: false, errors: upstreams.errors };
  return { ok: true, config: { ...config, upstreams: upstreams.upstreams, issuer: config.issuer ?? `http://localhost:${config.port}` } };
}

/**
 * NODE_ENV when none is given: development, except in the container image (IDP_CONTAINER), which
 * runs production as soon as a store is configured, and the embedded mode otherwise, so that
 * `docker run IMAGE` works with nothing set and a deployment cannot fall into development by
 * forgetting NODE_ENV.
 */
function defaultEnvironment(env: LoadConfigOptions['env']): string {
  const container = ['1', 'true', 'yes', 'on'].includes(present(env.IDP_CONTAINER)?.toLowerCase() ?? '');
  if (!container) return 'development';
  const stores = ['MONGODB_URI', 'MONGODB_URI_FILE', 'REDIS_URL', 'REDIS_URL_FILE', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'].some(
    (name) => present(env[name]) !== undefined,
  );
  return stores ? 'production' : 'development';
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function readJsonLayer(path: string, readFile: (path: string) => string, required: boolean, errors: string[]): JsonObject | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch {
    if (required) errors.push(`config: cannot read ${path}; restore it from the repository`);
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Json;
    if (isObject(value)) return value;
    errors.push(`config: ${path} must hold a JSON object`);
  } catch (error) {
    errors.push(`config: ${path} is not valid JSON (${(error as Error).message})`);
  }
  return undefined;
}

function readVariable(
  variable: EnvVariable,
  env: LoadConfigOptions['env'],
  readFile: (path: string) => string,
  errors: string[],
): string | undefined {
  const direct = present(env[variable.name]);
  if (direct !== undefined || !(variable.secret || variable.file)) return direct;
  const file = present(env[`${variable.name}_FILE`]);
  if (file === undefined) return undefined;
  try {
    return readFile(file).trim();
  } catch {
    errors.push(`${variable.path.join('.')} (${variable.name}_FILE): cannot read ${file}`);
    return undefined;
  }
}

type Parsed = { ok: true; value: Json } | { ok: false; message: string };

function parseValue(variable: EnvVariable, text: string): Parsed {
  switch (variable.kind) {
    case 'string':
      return { ok: true, value: text.trim() };
    case 'int': {
      const trimmed = text.trim();
      return /^-?\d+$/.test(trimmed)
        ? { ok: true, value: Number(trimmed) }
        : { ok: false, message: `must be a whole number, got "${trimmed}"` };
    }
    case 'bool': {
      const lower = text.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(lower)) return { ok: true, value: true };
      if (['0', 'false', 'no', 'off'].includes(lower)) return { ok: true, value: false };
      return { ok: false, message: `must be true or false, got "${text.trim()}"` };
    }
    case 'list':
      return {
        ok: true,
        value: text
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
      };
    case 'json':
      try {
        return { ok: true, value: JSON.parse(text) as Json };
      } catch (error) {
        // A secret's parse error may quote the secret, so only a non-secret's says where it broke.
        const where = variable.secret ? '' : ` (${(error as Error).message})`;
        return { ok: false, message: `must be valid JSON${where}${variable.hint ? `; ${variable.hint}` : ''}` };
      }
  }
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(target: JsonObject, source: JsonObject): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isObject(existing) && isObject(value)) deepMerge(existing, value);
    else target[key] = value;
  }
}

function setPath(target: JsonObject, path: readonly string[], value: Json): void {
  let node = target;
  path.slice(0, -1).forEach((segment) => {
    const next = node[segment];
    if (isObject(next)) {
      node = next;
    } else {
      const created: JsonObject = {};
      node[segment] = created;
      node = created;
    }
  });
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}

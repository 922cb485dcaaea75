import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type AssembledTools, assembleTools } from '../../src/assemble.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/schema.ts';
import { AppError, isAppError } from '../../src/errors.ts';

/** A usage mistake: one line and exit code 2. */
export function usageError(message: string): AppError {
  return new AppError('usage', message);
}

const CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));

/**
 * Runs a command-line tool: every failure becomes one line on stderr and a non-zero exit (2 for
 * usage, 1 otherwise), never a stack trace.
 */
export async function runCli(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${name}: ${message.split('\n')[0]}\n`);
    process.exitCode = isAppError(error, 'usage') ? 2 : 1;
  }
}

/**
 * The scripts' bootstrap: configuration from the environment, then the server's stores and
 * services through the one assembly. `redis: 'optional'` connects when REDIS_URL is set (the
 * clients tool announces its changes there, so running servers drop their cached copy at once).
 */
export async function openTools(
  tool: string,
  { redis = true }: { redis?: boolean | 'optional' } = {},
): Promise<AssembledTools & { config: Config }> {
  const loaded = loadConfig({ env: process.env, configDir: CONFIG_DIR });
  if (!loaded.ok) throw new AppError('invalid_input', `configuration error: ${loaded.errors.join('; ')}`);
  const { config } = loaded;
  if (!config.mongodbUri)
    throw new AppError('invalid_input', `MONGODB_URI is not set: the ${tool} tool works on the MongoDB the server uses`);
  if (redis === true && !config.redisUrl) {
    throw new AppError('invalid_input', `REDIS_URL is not set: the ${tool} tool needs the Redis the server uses (sessions, grants)`);
  }
  return { config, ...(await assembleTools(config, { redis: redis !== false })) };
}

/** Columns aligned for people; `--json` output is for machines. */
export function table(rows: Array<Record<string, string>>, columns: string[]): string {
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.toUpperCase())), ...rows.map((row) => line(columns.map((column) => row[column] ?? '')))].join(
    '\n',
  );
}

export function print(json: boolean, value: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human}\n`);
}

/** The whole of standard input, without its final newline (for --password-stdin). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Options and positionals of a tool's command line; a malformed one is a usage error. */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(options: T, usage: string) {
  try {
    return parseArgs({ allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false }, ...options } });
  } catch (error) {
    throw usageError(`${(error as Error).message}; ${usage}`);
  }
}

import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type AssembledTools, assembleTools } from '../../src/assemble.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { redisTopology } from '../../src/config/redis-topology.ts';
import type { Config } from '../../src/config/schema.ts';
import { AppError, isAppError } from '../../src/errors.ts';

/** A usage mistake: one line and exit code 2. */
export function usageError(message: string): AppError {
  return new AppError('usage', message);
}

/** What a tool says of itself for --help, -h or help: what it does, its commands, options and an example. */
export interface ToolHelp {
  /** How it is run, e.g. `npm run users -- <command> [options]`. */
  usage: string;
  summary: string;
  options?: Array<[flag: string, meaning: string]>;
  commands?: Record<string, { usage: string; summary: string; options?: Array<[flag: string, meaning: string]>; example: string }>;
  example: string;
}

/** Whether `name` is one of the tool's commands (own keys only: "constructor" is not a command). */
export function isCommand(help: ToolHelp, name: string | undefined): name is string {
  return name !== undefined && help.commands !== undefined && Object.hasOwn(help.commands, name);
}

/** The one-line usage of usage errors: the tool's usage with its commands spelled out. */
export function usageLine(help: ToolHelp): string {
  return `usage: ${help.usage.replace('<command>', `<${Object.keys(help.commands ?? {}).join('|')}>`)}`;
}

/** The help of a tool, or of one of its commands. */
export function helpText(help: ToolHelp, command?: string): string {
  const options = (list: Array<[string, string]> | undefined) => {
    if (!list?.length) return [];
    const width = Math.max(...list.map(([flag]) => flag.length));
    return ['', 'Options:', ...list.map(([flag, meaning]) => `  ${flag.padEnd(width)}  ${meaning}`)];
  };
  const entry = isCommand(help, command) ? help.commands?.[command] : undefined;
  if (entry)
    return [`usage: ${entry.usage}`, '', entry.summary, ...options(entry.options), '', 'Example:', `  ${entry.example}`, ''].join('\n');
  const commands = Object.entries(help.commands ?? {});
  const width = Math.max(0, ...commands.map(([name]) => name.length));
  return [
    `usage: ${help.usage}`,
    '',
    help.summary,
    ...(commands.length ? ['', 'Commands:', ...commands.map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`)] : []),
    ...options(help.options),
    '',
    'Example:',
    `  ${help.example}`,
    ...(commands.length ? ['', `Each command has its own help: ${help.usage.split('<')[0]?.trim()} <command> --help`] : []),
    '',
  ].join('\n');
}

/** Asked for help: the text goes to stdout and the tool exits 0 (see runCli). */
class HelpShown extends AppError {
  readonly text: string;
  constructor(text: string) {
    super('help', 'help shown');
    this.text = text;
  }
}

export const CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));

/**
 * Runs a command-line tool: every failure becomes one line on stderr and a non-zero exit (2 for
 * usage, 1 otherwise), never a stack trace.
 */
export async function runCli(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (error instanceof HelpShown) {
      process.stdout.write(error.text);
      return;
    }
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
  { redis = true, secretKeys = false }: { redis?: boolean | 'optional'; secretKeys?: boolean } = {},
): Promise<AssembledTools & { config: Config }> {
  const loaded = loadConfig({ env: process.env, configDir: CONFIG_DIR });
  if (!loaded.ok) throw new AppError('invalid_input', `configuration error: ${loaded.errors.join('; ')}`);
  const { config } = loaded;
  // Every missing setting at once, so an operator fixes them in one go.
  const missing = [
    !config.mongodbUri && 'MONGODB_URI (the MongoDB the server uses)',
    redis === true && !redisTopology(config) && 'REDIS_URL (the Redis the server uses: sessions, grants)',
    secretKeys && !config.clientSecretKeys && 'IDP_CLIENT_SECRET_KEYS (it encrypts client secrets; npm run keys makes one)',
  ].filter((setting): setting is string => typeof setting === 'string');
  if (missing.length > 0) throw new AppError('invalid_input', `the ${tool} tool needs settings that are not set: ${missing.join('; ')}`);
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

/**
 * Options and positionals of a tool's command line; a malformed one is a usage error. `--help`,
 * `-h` or a first word `help` show the tool's help, or a command's (`users create --help`,
 * `users help create`), and the tool exits 0.
 */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(options: T, help: ToolHelp) {
  const words = process.argv.slice(2);
  const read = () => {
    try {
      return parseArgs({
        args: words,
        allowPositionals: true,
        // --no-first-party and the like turn a boolean option off (on update).
        allowNegative: true,
        strict: true,
        options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false }, ...options },
      });
    } catch (error) {
      // A malformed line that asks for help still gets it.
      if (words.includes('--help') || words.includes('-h') || words[0] === 'help') {
        throw new HelpShown(
          helpText(
            help,
            words.find((word) => isCommand(help, word)),
          ),
        );
      }
      throw usageError(`${(error as Error).message}; usage: ${help.usage} (--help explains)`);
    }
  };
  const parsed = read();
  const [first, second] = parsed.positionals;
  if (first === 'help') throw new HelpShown(helpText(help, second));
  if ((parsed.values as { help?: boolean }).help) throw new HelpShown(helpText(help, first));
  return parsed;
}

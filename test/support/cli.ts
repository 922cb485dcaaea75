import { fileURLToPath } from 'node:url';
import { runToExit } from '../../scripts/lib/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node scripts/<tool>.ts ...args` as an administrator would, with exactly `env`. */
export async function runTool(tool: string, args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  const { code, stdout, stderr } = await runToExit(process.execPath, [`scripts/${tool}.ts`, ...args], {
    name: tool,
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdin: stdin ?? '',
  });
  return { code, stdout, stderr };
}

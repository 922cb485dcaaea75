import { readFile } from 'node:fs/promises';
import YAML from 'yaml';

export type DocumentResult = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * A JSON or YAML file (the seed file, an apply file), by its extension: `.json` is read as JSON,
 * anything else as YAML (which JSON also is). A problem is one line naming the file.
 */
export async function readDocument(path: string): Promise<DocumentResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { ok: false, problem: `cannot read ${path}` };
  }
  const json = /\.json$/i.test(path);
  try {
    return { ok: true, value: json ? JSON.parse(text) : YAML.parse(text) };
  } catch (error) {
    return { ok: false, problem: `${path} is not valid ${json ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}` };
  }
}

import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { generateKeySet, type KeySet } from './keys.ts';

/** What a development server keeps in IDP_DATA_DIR: the keys it would otherwise make at every start. */
export interface DevKeys extends KeySet {
  /** The embedded mode's demo client secret, so an app wired to it survives a restart. */
  demoClientSecret: string;
}

const FILE = 'keys.json';

const fileSchema = z.object({
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown()).and(z.object({ kty: z.string(), d: z.string() }))).min(1) }),
  cookieKeys: z.array(z.string().min(32)).min(1),
  clientSecretKeys: z.array(z.string().regex(/^[A-Za-z0-9_-]{43}$/)).min(1),
  demoClientSecret: z.string().min(32),
});

/**
 * The keys of IDP_DATA_DIR (development only: the configuration refuses it in production), made and
 * written on the first start, read at every later one, so signed tokens, cookies and stored client
 * secrets stay valid across restarts. The file is private to the user running the server (0600 in a
 * 0700 directory). Two servers starting at once on an empty directory agree: the file is created
 * with link(2), which fails when it exists, and the loser reads the winner's.
 */
export async function loadDevKeys(dir: string): Promise<{ keys: DevKeys; created: boolean; path: string }> {
  const path = join(dir, FILE);
  const existing = await readKeys(path);
  if (existing) return { keys: existing, created: false, path };
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new AppError('startup', `dataDir (IDP_DATA_DIR): cannot create ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const made: DevKeys = { ...(await generateKeySet()), demoClientSecret: randomBytes(32).toString('base64url') };
  const draft = join(dir, `.${FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(draft, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await link(draft, path);
    return { keys: made, created: true, path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new AppError('startup', `dataDir (IDP_DATA_DIR): cannot write ${path}: ${(error as Error).message}`, { cause: error });
    const theirs = await readKeys(path);
    if (!theirs) throw new AppError('startup', `dataDir (IDP_DATA_DIR): ${path} appeared but cannot be read`);
    return { keys: theirs, created: false, path };
  } finally {
    await rm(draft, { force: true });
  }
}

/** The keys in `path`, undefined when there is no file; a file that is not ours stops the start (nothing is overwritten). */
async function readKeys(path: string): Promise<DevKeys | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AppError('startup', `dataDir (IDP_DATA_DIR): cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return fileSchema.parse(JSON.parse(text)) as DevKeys;
  } catch {
    throw new AppError(
      'startup',
      `dataDir (IDP_DATA_DIR): ${path} is not a key file this server wrote; move it away (a new one is made) or choose another IDP_DATA_DIR`,
    );
  }
}

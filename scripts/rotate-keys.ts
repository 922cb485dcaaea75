/**
 * Rotates the signing keys without downtime: npm run rotate-keys -- <add|promote|retire> [--file jwks.json]
 *
 * Reads the current private JWKS from --file, or from IDP_JWKS / IDP_JWKS_FILE, and prints the JWKS
 * for the next stage on stdout (it is secret: put it where IDP_JWKS comes from). Deploy each stage to
 * every instance before running the next:
 *   add      new keys published, not signing yet (wait until relying parties have refreshed the JWKS)
 *   promote  new keys sign; old keys still verify tokens issued before
 *   retire   old keys removed (wait until the longest-lived token signed with them has expired)
 */
import { readFile } from 'node:fs/promises';
import { type Jwks, type RotationStage, rotateJwks } from '../src/oidc/key-rotation.ts';
import { parseCommandLine, runCli, type ToolHelp, usageError, usageLine } from './lib/cli.ts';

const FILE: [string, string] = ['--file jwks.json', 'the current private JWKS (else IDP_JWKS or IDP_JWKS_FILE)'];
const HELP: ToolHelp = {
  usage: 'npm run -s rotate-keys -- <add|promote|retire> [--file jwks.json] > next-jwks.json',
  summary:
    'Rotates the signing keys without downtime, in three stages. It reads the current private JWKS and prints the next one on stdout (secret: put it where IDP_JWKS comes from), and every instance must run a stage before the next one starts.',
  commands: {
    add: {
      usage: 'npm run -s rotate-keys -- add [--file jwks.json]',
      summary: 'New keys are published but do not sign yet; wait until relying parties have refreshed the JWKS.',
      options: [FILE],
      example: 'npm run -s rotate-keys -- add --file jwks.json > next-jwks.json',
    },
    promote: {
      usage: 'npm run -s rotate-keys -- promote [--file jwks.json]',
      summary: 'The new keys sign; the old ones still verify tokens issued before.',
      options: [FILE],
      example: 'npm run -s rotate-keys -- promote --file jwks.json > next-jwks.json',
    },
    retire: {
      usage: 'npm run -s rotate-keys -- retire [--file jwks.json]',
      summary: 'The old keys are removed; wait until the longest-lived token signed with them has expired.',
      options: [FILE],
      example: 'npm run -s rotate-keys -- retire --file jwks.json > next-jwks.json',
    },
  },
  example: 'npm run -s rotate-keys -- add --file jwks.json > next-jwks.json',
};
const USAGE = usageLine(HELP);

await runCli('rotate-keys', async () => {
  const { values, positionals } = parseCommandLine({ file: { type: 'string' } }, HELP);
  const [stage, extra] = positionals;
  if (stage !== 'add' && stage !== 'promote' && stage !== 'retire') throw usageError(USAGE);
  if (extra) throw usageError(`unexpected argument "${extra}"`);
  const text = values.file
    ? await readFile(values.file, 'utf8')
    : (process.env.IDP_JWKS ?? (process.env.IDP_JWKS_FILE ? await readFile(process.env.IDP_JWKS_FILE, 'utf8') : undefined));
  if (!text) throw usageError(`give the current JWKS with --file, IDP_JWKS or IDP_JWKS_FILE; ${USAGE}`);
  let current: Jwks;
  try {
    current = JSON.parse(text) as Jwks;
  } catch {
    throw usageError('the current JWKS is not valid JSON');
  }
  if (!Array.isArray(current.keys) || current.keys.some((key) => typeof key.d !== 'string')) {
    throw usageError('the current JWKS must be a private key set ({"keys":[...]} with "d" in every key)');
  }
  const next = await rotateJwks(current, stage as RotationStage);
  process.stdout.write(`${JSON.stringify(next)}\n`);
  const kids = next.keys.map((key) => `${key.alg}:${String(key.kid).slice(0, 8)}`).join(' ');
  process.stderr.write(`${stage}: ${next.keys.length} keys, signing first: ${kids}\n`);
});

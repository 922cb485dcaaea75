/**
 * Prints a fresh signing key set, cookie key and client-secret key, ready for the environment of
 * every instance:
 *   npm run keys            -> IDP_JWKS=..., IDP_COOKIE_KEYS=... and IDP_CLIENT_SECRET_KEYS=... lines
 *   npm run keys -- --json  -> { "jwks": ..., "cookieKeys": [...] }
 * The output is secret: store it in your secret manager, never in the repository.
 */
import { generateKeySet } from '../src/oidc/keys.ts';
import { parseCommandLine, runCli, type ToolHelp, usageError } from './lib/cli.ts';

const HELP: ToolHelp = {
  usage: 'npm run -s keys [-- --json]',
  summary:
    'Prints a fresh signing key set (IDP_JWKS), cookie key (IDP_COOKIE_KEYS) and client-secret key (IDP_CLIENT_SECRET_KEYS) as environment lines, or as JSON. The output is secret: store it in your secret manager, never in the repository.',
  options: [['--json', 'print { "jwks", "cookieKeys", "clientSecretKeys" } instead']],
  example: 'npm run -s keys > idp-keys.env',
};

await runCli('keys', async () => {
  const { values, positionals } = parseCommandLine({}, HELP);
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"; usage: ${HELP.usage}`);
  const keys = await generateKeySet();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
  } else {
    process.stdout.write(`IDP_JWKS='${JSON.stringify(keys.jwks)}'\n`);
    process.stdout.write(`IDP_COOKIE_KEYS=${keys.cookieKeys.join(',')}\n`);
    process.stdout.write(`IDP_CLIENT_SECRET_KEYS=${keys.clientSecretKeys.join(',')}\n`);
  }
});

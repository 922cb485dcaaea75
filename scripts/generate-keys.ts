/**
 * Prints a fresh signing key set, cookie key and client-secret key, ready for the environment of
 * every instance:
 *   npm run keys            -> IDP_JWKS=..., IDP_COOKIE_KEYS=... and IDP_CLIENT_SECRET_KEYS=... lines
 *   npm run keys -- --json  -> { "jwks": ..., "cookieKeys": [...] }
 * The output is secret: store it in your secret manager, never in the repository.
 */
import { generateKeySet } from '../src/oidc/keys.ts';

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--json');
if (unknown.length > 0) {
  process.stderr.write(`unknown argument ${unknown[0]}; usage: npm run keys [-- --json]\n`);
  process.exit(2);
}

const keys = await generateKeySet();
if (args.includes('--json')) {
  process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
} else {
  process.stdout.write(`IDP_JWKS='${JSON.stringify(keys.jwks)}'\n`);
  process.stdout.write(`IDP_COOKIE_KEYS=${keys.cookieKeys.join(',')}\n`);
  process.stdout.write(`IDP_CLIENT_SECRET_KEYS=${keys.clientSecretKeys.join(',')}\n`);
}

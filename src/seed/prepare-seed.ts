import { authMethodOf, usesSecret } from '../clients/client-spec.ts';
import type { Config } from '../config/schema.ts';
import { AppError } from '../errors.ts';
import { mergeClaimScopes } from '../oidc/configuration/claim-scopes.ts';
import { loadSeedFile, type Seed } from './seed-file.ts';

const where = (path: string) => `seedFile (IDP_SEED_FILE): ${path}`;

/**
 * The seed file of the configuration (IDP_SEED_FILE), read and checked before anything starts, and
 * the configuration with the file's `claim_scopes` joined to IDP_CLAIM_SCOPES. A bad file stops the
 * start with one line per problem.
 */
export async function prepareSeed(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ seed: Seed | undefined; config: Config }> {
  if (!config.seedFile) return { seed: undefined, config };
  const loaded = await loadSeedFile(config.seedFile, env);
  const fail = (problems: string[]) =>
    new AppError('startup', problems.map((problem) => `${where(config.seedFile ?? '')}: ${problem}`).join('\n'));
  if (!loaded.ok) throw fail(loaded.problems);
  const { seed } = loaded;
  const problems: string[] = [];
  for (const [index, entry] of seed.clients.entries()) {
    // A generated secret would be shown to nobody: a confidential client of the file brings its own.
    if (usesSecret(authMethodOf(entry.spec)) && entry.secret === undefined)
      problems.push(
        `clients[${index}].client_secret: a client using ${authMethodOf(entry.spec)} needs its secret here (client_secret or secret_env)`,
      );
  }
  for (const scope of Object.keys(seed.claimScopes)) {
    const api = config.resources.find((resource) => resource.scopes.includes(scope));
    if (api)
      problems.push(
        `claim_scopes.${scope}: is also a scope of the API ${api.indicator} (IDP_RESOURCES); give the claims' scope another name`,
      );
  }
  const merged = mergeClaimScopes(config.claimScopes, seed.claimScopes);
  if (!merged.ok) problems.push(`claim_scopes: ${merged.problem}`);
  if (problems.length > 0 || !merged.ok) throw fail(problems);
  return { seed, config: { ...config, claimScopes: merged.value } };
}

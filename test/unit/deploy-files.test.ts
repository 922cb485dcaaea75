import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { beforeAll, describe, expect, test } from '@jest/globals';
import YAML from 'yaml';
import { loadConfig } from '../../src/config/load-config.ts';
import { runTool } from '../support/cli.ts';
import { CONFIG_DIR } from '../support/test-config.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(`${ROOT}${file}`, 'utf8');

interface ComposeService {
  build?: string;
  image?: string;
  ports?: string[];
  environment?: Record<string, string>;
  env_file?: Array<{ path: string; required?: boolean }>;
  depends_on?: Record<string, { condition: string }>;
}

/**
 * No Docker engine runs here, so the Dockerfile and the compose file are checked by reading them:
 * what the server would be given, and what the README tells people to paste.
 */
describe('the Dockerfile, the compose file and the production recipe', () => {
  const compose = YAML.parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
  const idp = compose.services.idp ?? {};
  const dockerfile = read('Dockerfile');
  const imageEnv = Object.fromEntries(
    [...dockerfile.matchAll(/^\s*(?:ENV\s+)?([A-Z_]+)=(\S+?)\s*\\?$/gm)].map((match) => [match[1], match[2]]),
  );
  /** What the image's keys command prints, parsed as Node's --env-file (and compose's env_file) read it. */
  let keys: Record<string, string>;

  beforeAll(async () => {
    const generated = await runTool('generate-keys', [], {});
    expect(generated).toMatchObject({ code: 0, stderr: '' });
    keys = parseEnv(generated.stdout) as Record<string, string>;
  });
  const production = (env: Record<string, string>) => loadConfig({ env, configDir: CONFIG_DIR });

  test('the compose environment plus the keys file is a complete production configuration; without the file the keys are named', () => {
    expect(idp.env_file).toEqual([{ path: '.env', required: false }]);
    const environment = { ...imageEnv, ...idp.environment };
    expect(environment.NODE_ENV).toBe('production');
    expect(production({ ...environment, ...keys })).toMatchObject({ ok: true });

    const withoutKeys = production(environment);
    expect(withoutKeys.ok).toBe(false);
    const errors = withoutKeys.ok ? [] : withoutKeys.errors.join('\n');
    for (const variable of ['IDP_JWKS', 'IDP_COOKIE_KEYS', 'IDP_CLIENT_SECRET_KEYS']) expect(errors).toContain(variable);
  });

  test('every host the server is pointed at and every dependency is a service of the file', () => {
    const services = Object.keys(compose.services);
    for (const variable of ['MONGODB_URI', 'REDIS_URL', 'SMTP_URL']) {
      const url = new URL(idp.environment?.[variable] ?? '');
      expect({ variable, host: services.includes(url.hostname) }).toEqual({ variable, host: true });
    }
    for (const dependency of Object.keys(idp.depends_on ?? {})) expect(services).toContain(dependency);
    // The mail catcher's page is published, so the emails can be read.
    expect(compose.services.mailpit?.ports).toContain('8025:8025');
  });

  test('the ports agree: the image listens where compose publishes, and the issuer names the published port', () => {
    const [published, container] = (idp.ports?.[0] ?? '').split(':');
    expect(imageEnv.PORT).toBe(container);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${container}$`, 'm'));
    expect(new URL(idp.environment?.ISSUER ?? '').port).toBe(published);
  });

  test('the image holds what the commands run: the server, the keys tool and the clients tool', () => {
    expect(dockerfile).toMatch(/^CMD \["node", "src\/main\.ts"\]$/m);
    for (const folder of ['src', 'views', 'config', 'scripts'])
      expect(dockerfile).toMatch(new RegExp(`^COPY ${folder} \\./${folder}$`, 'm'));
    const ignored = read('.dockerignore').split('\n');
    for (const file of ['src/main.ts', 'scripts/generate-keys.ts', 'scripts/clients.ts']) {
      expect(existsSync(`${ROOT}${file}`)).toBe(true);
      expect(ignored.some((pattern) => pattern !== '' && file.startsWith(pattern))).toBe(false);
    }
    // The keys file stays out of git and out of the image.
    expect(read('.gitignore').split('\n')).toContain('.env');
    expect(ignored).toContain('.env');
  });

  test("the README's production recipe lists every setting production requires", () => {
    const recipe = /cat >> idp\.env <<'EOF'\n([\s\S]*?)\nEOF\n/.exec(read('README.md'))?.[1];
    expect(recipe).toBeDefined();
    const settings = parseEnv(recipe ?? '') as Record<string, string>;
    expect(production({ ...settings, ...keys })).toMatchObject({ ok: true });
    expect(read('README.md')).toContain('npm run -s keys > idp.env');
    expect(read('README.md')).toContain('node --env-file=idp.env src/main.ts');
  });
});

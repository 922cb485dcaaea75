import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { beforeAll, describe, expect, test } from '@jest/globals';
import YAML from 'yaml';
import { embeddedOnNetwork, isEmbedded, listenHost, selfUrl } from '../../src/config/listen.ts';
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

  test('with no store configured the image runs the embedded mode (a test provider), on every interface, with no well-known password', () => {
    expect(imageEnv).toMatchObject({ IDP_CONTAINER: 'true', PORT: '3000' });
    expect(imageEnv.NODE_ENV).toBeUndefined();
    const alone = production(imageEnv);
    if (!alone.ok) throw new Error(alone.errors.join('\n'));
    expect(alone.config).toMatchObject({ env: 'development', container: true });
    expect(isEmbedded(alone.config)).toBe(true);
    // Loopback inside a container is unreachable from outside, so it listens on every interface...
    expect(listenHost(alone.config)).toBe('0.0.0.0');
    // ...and the demo user then gets a random password (the banner prints it), not the documented one.
    expect(embeddedOnNetwork(alone.config)).toBe(true);
    // The demo app calls the server on its own port, whatever port the issuer names outside.
    expect(selfUrl({ ...alone.config, issuer: 'http://localhost:8080' })).toBe('http://127.0.0.1:3000');
  });

  test('with the stores configured the same image runs production, even without NODE_ENV', () => {
    const { NODE_ENV: _explicit, ...composeEnvironment } = idp.environment ?? {};
    const withStores = production({ ...imageEnv, ...composeEnvironment, ...keys });
    if (!withStores.ok) throw new Error(withStores.errors.join('\n'));
    expect(withStores.config.env).toBe('production');
    expect(listenHost(withStores.config)).toBeUndefined();
    // One store alone is production too, which then names what is missing rather than falling back to development.
    const oneStore = production({ ...imageEnv, MONGODB_URI: 'mongodb://mongo:27017/idp' });
    expect(oneStore.ok ? [] : oneStore.errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/^redisUrl \(REDIS_URL\): is required/)]),
    );
  });

  test("the README's docker run lines use what the image holds: the seed file, a data directory it may write, the published port", () => {
    const lines = read('README.md')
      .split('\n')
      .filter((line) => line.trimStart().startsWith('docker run '));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      expect(line).toMatch(/ -p 127\.0\.0\.1:3000:3000 /);
      const env = Object.fromEntries([...line.matchAll(/ -e ([A-Z_]+)=(\S+)/g)].map((match) => [match[1], match[2]]));
      if (env.IDP_SEED_FILE?.startsWith('examples/')) {
        expect(existsSync(`${ROOT}${env.IDP_SEED_FILE}`)).toBe(true);
        expect(dockerfile).toMatch(/^COPY examples \.\/examples$/m);
      }
      const volume = / -v ([\w.$/"-]+):([\w/.-]+)(?::ro)? /.exec(line);
      if (env.IDP_DATA_DIR) {
        expect(volume?.[2]).toBe(env.IDP_DATA_DIR);
        expect(dockerfile).toContain(`chown node:node ${env.IDP_DATA_DIR}`);
      }
    }
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

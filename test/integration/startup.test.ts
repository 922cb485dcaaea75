import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { freePort } from '../../scripts/lib/local-services.ts';
import { runServerToExit } from '../support/server-process.ts';

/** An operator who misconfigures gets one line per problem naming the setting, and a non-zero exit. */
describe('start-up failures', () => {
  const expectNoStack = (text: string) => expect(text).not.toMatch(/^\s+at .+[:(]/m);

  test('a bad value: one line naming the variable, exit 1', async () => {
    const result = await runServerToExit({ PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('configuration error: port (PORT): must be a whole number, got "eighty"\n');
    expect(result.stdout).toBe('');
  });

  test('production without stores, keys, mail or an https issuer lists every missing setting', async () => {
    const result = await runServerToExit({ NODE_ENV: 'production', ISSUER: 'http://id.example.com' });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(7);
    for (const name of ['MONGODB_URI', 'REDIS_URL', 'IDP_COOKIE_KEYS', 'IDP_JWKS', 'IDP_CLIENT_SECRET_KEYS', 'SMTP_URL', 'ISSUER']) {
      expect(lines.some((line) => line.startsWith('configuration error: ') && line.includes(`(${name})`))).toBe(true);
    }
    expectNoStack(result.stderr);
  });

  test('an unreachable Redis is named, without a stack trace', async () => {
    const port = await freePort();
    const result = await runServerToExit({ REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'silent' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}(/)? \\(.*ECONNREFUSED.*\\)$`)),
    ]);
  });

  test('an unreachable MongoDB is named, with credentials hidden', async () => {
    const port = await freePort();
    const result = await runServerToExit({ MONGODB_URI: `mongodb://admin:hunter2@127.0.0.1:${port}/idp`, LOG_LEVEL: 'silent' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^cannot connect to MongoDB at mongodb:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/idp \(/);
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('a clients file with an http redirect URI is refused before start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idp-clients-'));
    const file = join(dir, 'clients.json');
    writeFileSync(
      file,
      JSON.stringify([{ client_id: 'app', client_secret: 's'.repeat(32), redirect_uris: ['http://app.example.com/cb'] }]),
    );
    const result = await runServerToExit({ IDP_CLIENTS_FILE: file, LOG_LEVEL: 'silent' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `clientsFile (IDP_CLIENTS_FILE): ${file} client "app": "http://app.example.com/cb" must use https (plain http is only allowed for localhost)\n`,
    );
  });

  test('client metadata oidc-provider refuses is reported in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idp-clients-'));
    const file = join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify([{ client_id: 'app', redirect_uris: ['https://app.example.com/cb'], grant_types: ['implicit'] }]));
    const result = await runServerToExit({ IDP_CLIENTS_FILE: file, LOG_LEVEL: 'silent' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^invalid provider configuration: /)]);
  });
});

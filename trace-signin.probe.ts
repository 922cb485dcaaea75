// Scratch: every Redis command of one sign-in, in order, grouped by HTTP request.
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { serverEnvironment } from './bench/environment.ts';
import { benchClients, benchUsers } from './bench/fixtures.ts';
import { seed } from './bench/seed.ts';
import { signIn } from './bench/sign-in-flow.ts';
import { startMongo, startRedis } from './scripts/lib/local-services.ts';
import { loadConfig } from './src/config/load-config.ts';
import { generateKeySet } from './src/oidc/keys.ts';

const [redis, mongo] = await Promise.all([startRedis(), startMongo()]);
const keys = await generateKeySet();
const clients = benchClients();
const users = benchUsers(1);
const env = serverEnvironment({
  port: 3962,
  keys,
  redisUrl: redis.url,
  mongodbUri: `${mongo.url}/p`,
  extra: { LOG_LEVEL: 'info', IDP_ARGON2_MEMORY_KIB: '19456', IDP_ARGON2_TIME_COST: '2' },
});
const loaded = loadConfig({ env, configDir: './config' });
if (!loaded.ok) throw new Error(loaded.errors.join());
await seed(loaded.config, [clients.app], users);
const child = spawn(process.execPath, ['src/main.ts'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
const lines: string[] = [];
child.stdout.on('data', (d: Buffer) => {
  for (const l of d.toString().split('\n')) {
    if (l.includes('"msg":"request"')) {
      const j = JSON.parse(l);
      lines.push(`---- ${j.method} ${j.path} ${j.status}`);
    }
  }
});
for (;;) {
  try {
    const r = await fetch('http://127.0.0.1:3962/readyz', { headers: { 'X-Forwarded-Proto': 'https' } });
    if (r.ok) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 20));
}
await signIn({ issuer: 'https://127.0.0.1:3962' }, clients.app, users[0]!); // warm
const monitor = await new Redis(redis.url).monitor();
monitor.on('monitor', (_t: string, args: string[], source: string) => {
  lines.push(`${source === 'lua' ? '    lua ' : ''}${args.map((a) => (a.length > 60 ? a.slice(0, 40) + '…' : a)).join(' ')}`);
});
await new Promise((r) => setTimeout(r, 100));
await signIn({ issuer: 'https://127.0.0.1:3962' }, clients.app, users[0]!);
await new Promise((r) => setTimeout(r, 300));
monitor.disconnect();
console.log(lines.join('\n'));
child.kill('SIGINT');
await new Promise((r) => child.once('exit', r));
await redis.stop();
await mongo.stop();

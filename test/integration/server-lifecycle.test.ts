import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as cheerio from 'cheerio';
import { freePort } from '../../scripts/lib/local-services.ts';
import { eventually } from '../support/eventually.ts';
import { type ServerProcess, spawnServer, waitUntilReady } from '../support/server-process.ts';

/** An address of this machine that is not loopback, to see what the server answers on. */
function externalAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;
  if (!address) throw new Error('this machine has no non-loopback IPv4 address, so the loopback-only check cannot run');
  return address;
}

/** Whether a TCP connection to host:port is accepted (any HTTP answer counts). */
async function answers(host: string, port: number): Promise<boolean> {
  try {
    await (await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(3000) })).text();
    return true;
  } catch {
    return false;
  }
}

/** Runs a printed command in a POSIX shell with `curl` replaced by a function that prints its arguments. */
function runWithFakeCurl(command: string, cwd: string): Promise<string[]> {
  const script = `curl() { for argument in "$@"; do printf '%s\\n' "$argument"; done; }\n${command}\n`;
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', script], { cwd }, (error, stdout) => (error ? reject(error) : resolve(stdout.split('\n').filter(Boolean))));
  });
}

describe('the server process: where it listens, what it prints, how it stops', () => {
  let embedded: ServerProcess;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    embedded = spawnServer({ PORT: String(port), IDP_SHUTDOWN_DRAIN_MS: '0' });
    await waitUntilReady(embedded);
  });
  afterAll(async () => {
    await embedded?.stop();
  });

  test('the embedded mode (it prints a client secret) answers on loopback only; HOST or the container opens it, with a demo password of its own', async () => {
    expect(await answers('127.0.0.1', port)).toBe(true);
    expect(await answers(externalAddress(), port)).toBe(false);

    const demoPassword = (server: ServerProcess) =>
      /Demo user: +demo \(or demo@example\.com\) \/ (\S+)/.exec(server.output().stdout)?.[1] ?? 'missing';
    expect(demoPassword(embedded)).toBe('demo-password-2024');
    // Answering beyond loopback (HOST, or the container image's IDP_CONTAINER), the demo user gets a
    // password of its own: the documented one would let anyone on the network in.
    for (const env of [{ HOST: '0.0.0.0' }, { IDP_CONTAINER: 'true' }] as Array<Record<string, string>>) {
      const openPort = await freePort();
      const open = spawnServer({ PORT: String(openPort), IDP_SHUTDOWN_DRAIN_MS: '0', ...env });
      try {
        await waitUntilReady(open);
        expect({ env, answers: await answers(externalAddress(), openPort) }).toEqual({ env, answers: true });
        expect(demoPassword(open)).toMatch(/^demo-[A-Za-z0-9_-]{16}$/);
      } finally {
        await open.stop();
      }
    }
  });

  test('the demo callback quotes every value of its curl line for a POSIX shell', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idp-curl-'));
    try {
      const code = `x' $(touch pwned) '"; touch pwned2; echo '`;
      const page = await fetch(`http://127.0.0.1:${port}/demo/callback?code=${encodeURIComponent(code)}&state=s`);
      const curl = cheerio
        .load(await page.text())('pre.code')
        .text();
      const argv = await runWithFakeCurl(curl, dir);
      expect(existsSync(join(dir, 'pwned'))).toBe(false);
      expect(existsSync(join(dir, 'pwned2'))).toBe(false);
      expect(argv).toContain(`code=${code}`);
      expect(argv).toContain(`http://localhost:${port}/token`);
      expect(argv).toContain('grant_type=authorization_code');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('SIGTERM: readiness says 503 at once, requests are still served while draining, then it closes and exits', async () => {
    const drainPort = await freePort();
    const server = spawnServer({ PORT: String(drainPort), IDP_SHUTDOWN_DRAIN_MS: '1500' });
    await waitUntilReady(server);
    const base = `http://127.0.0.1:${drainPort}`;
    // A keep-alive connection that sits idle through the shutdown: it must not hold the exit up.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await new Promise<void>((resolve, reject) => {
      request(`${base}/healthz`, { agent }, (response) => {
        response.resume();
        response.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });

    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      server.child.once('exit', (code) => resolve({ code, at: Date.now() })),
    );
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    // Logged once readiness has turned: a signal that the server has taken the SIGTERM, not a guess at how long that takes.
    await eventually(
      async () => server.output().stdout,
      (stdout) => stdout.includes('"msg":"shutting down: readiness says 503"'),
      2000,
    );
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'stopping', reason: 'the server is shutting down' });
    const served = await fetch(`${base}/.well-known/openid-configuration`);
    expect(served.status).toBe(200);
    expect(served.headers.get('connection')).toBe('close');
    await served.json();

    const { code, at } = await exited;
    agent.destroy();
    expect(code).toBe(0);
    // The drain (1.5 s) and no more: idle keep-alive sockets are closed at once, not waited for.
    expect(at - signalled).toBeGreaterThanOrEqual(1500);
    expect(at - signalled).toBeLessThan(1500 + 3000);
    expect(await answers('127.0.0.1', drainPort)).toBe(false);
    expect(server.output().stdout).toContain('"msg":"stopped"');
  });
});

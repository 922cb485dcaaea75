import { rmSync } from 'node:fs';

/** Stops the servers global-setup started and removes the run's temporary folder; the suite leaves nothing behind. */
export default async function globalTeardown(): Promise<void> {
  const services = globalThis.idpTestServices ?? [];
  await Promise.allSettled(services.map((service) => service.stop()));
  globalThis.idpTestServices = [];
  const run = globalThis.idpTestTmpdir;
  if (run) {
    if (run.previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = run.previous;
    rmSync(run.dir, { recursive: true, force: true });
    globalThis.idpTestTmpdir = undefined;
  }
}

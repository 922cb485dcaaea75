import { Agent, request } from 'node:http';
import { type RequestSpec, type RunResult, summarizeLatencies } from './load.ts';
import { startCpuMeter, type Watched } from './processes.ts';

/**
 * Requests at a steady rate, evenly spaced (open loop), for the latency-at-half-rate runs.
 * autocannon's overallRate is a per-second quota: each connection sends flat out until its share of
 * the second is used, then waits for the next second, so its "half rate" is full-speed bursts and
 * its latencies are those of the maximum rate. Here a request is due every 1/rate s, and its
 * latency counts from when it was due, so a server that falls behind shows it (no coordinated
 * omission).
 */
export async function runPaced(
  wireUrl: string,
  watched: Watched,
  spec: RequestSpec,
  settings: { rate: number; duration: number; connections: number },
): Promise<RunResult> {
  const url = new URL(wireUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: settings.connections });
  const headers = { 'X-Forwarded-Proto': 'https', ...spec.headers };
  const bodies = spec.bodies ?? [];
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;

  const fire = (due: number) =>
    new Promise<void>((resolve) => {
      const body = bodies.length > 0 ? bodies[sent % bodies.length] : undefined;
      sent += 1;
      const outgoing = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: spec.method,
          path: spec.path,
          headers: body === undefined ? headers : { ...headers, 'Content-Length': Buffer.byteLength(body) },
        },
        (response) => {
          response.resume();
          response.once('end', () => {
            latencies.push(performance.now() - due);
            if ((response.statusCode ?? 0) < 200 || (response.statusCode ?? 0) >= 300) errors += 1;
            resolve();
          });
        },
      );
      outgoing.once('error', () => {
        errors += 1;
        resolve();
      });
      outgoing.end(body);
    });

  const meter = startCpuMeter(watched);
  const started = performance.now();
  const end = started + settings.duration * 1000;
  const interval = 1000 / settings.rate;
  const pending: Array<Promise<void>> = [];
  let due = started;
  while (due < end) {
    const now = performance.now();
    while (due <= now && due < end) {
      pending.push(fire(due));
      due += interval;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(due - performance.now(), 1))));
  }
  await Promise.all(pending);
  const { wallMs, ...cpu } = meter.stop();
  agent.destroy();

  return summarizeLatencies(latencies, wallMs, errors, cpu);
}

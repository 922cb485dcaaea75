import autocannon from 'autocannon';
import { startCpuMeter, type Watched } from './processes.ts';

/** One kind of request a scenario repeats; `bodies` rotate, one per request. */
export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  bodies?: string[];
}

export interface RunSettings {
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration: number;
  amount?: number;
}

/** What one load run measured. Latencies in ms, CPU in % of one core over the run's wall time. */
export interface RunResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  /** CPU used by this process, which is the load generator. */
  generatorCpu: number;
  serverCpu: number;
  /** CPU used by the Redis and MongoDB-wire servers (0 for the baseline, which has none). */
  backendCpu: number;
}

/** Drives `spec` as fast as `connections` connections go, with autocannon in this process. */
export async function runLoad(wireUrl: string, watched: Watched, spec: RequestSpec, settings: RunSettings): Promise<RunResult> {
  let next = 0;
  const bodies = spec.bodies;
  const request: autocannon.Request = {
    method: spec.method,
    path: spec.path,
    headers: { 'X-Forwarded-Proto': 'https', ...spec.headers },
    ...(bodies && bodies.length === 1 ? { body: bodies[0] } : {}),
    ...(bodies && bodies.length > 1
      ? {
          setupRequest: (outgoing: autocannon.Request) => {
            const body = bodies[next % bodies.length];
            next += 1;
            return { ...outgoing, body };
          },
        }
      : {}),
  };
  const meter = startCpuMeter(watched);
  const result = await autocannon({
    url: wireUrl,
    connections: settings.connections,
    pipelining: 1,
    ...(settings.amount ? { amount: settings.amount } : { duration: settings.duration }),
    requests: [request],
    timeout: 10,
  });
  const { wallMs, ...cpu } = meter.stop();
  const requests = result.requests.total;
  return {
    requests,
    seconds: wallMs / 1000,
    rps: requests / (wallMs / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.non2xx + result.mismatches,
    ...cpu,
  };
}

/** A run's result from latencies measured by hand (ms, any order), as the paced and sign-in runners measure them. */
export function summarizeLatencies(
  latencies: number[],
  wallMs: number,
  errors: number,
  cpu: Pick<RunResult, 'generatorCpu' | 'serverCpu' | 'backendCpu'>,
): RunResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
  return {
    requests: sorted.length,
    seconds: wallMs / 1000,
    rps: sorted.length / (wallMs / 1000),
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? Number.NaN,
    errors,
    ...cpu,
  };
}

/** Sends the request once and returns status and body, to check a scenario works before loading it. */
export async function probe(wireUrl: string, spec: RequestSpec): Promise<{ status: number; body: string }> {
  const response = await fetch(new URL(spec.path, wireUrl), {
    method: spec.method,
    headers: { 'X-Forwarded-Proto': 'https', ...spec.headers },
    body: spec.bodies?.[0] ?? null,
  });
  return { status: response.status, body: await response.text() };
}

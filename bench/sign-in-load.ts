import type { BenchClient, BenchUser } from './fixtures.ts';
import { type RunResult, summarizeLatencies } from './load.ts';
import { startCpuMeter, type Watched } from './processes.ts';
import { signIn, type Target } from './sign-in-flow.ts';

export interface SignInSettings {
  concurrency: number;
  duration: number;
  /** Flows started per second (open loop); unset = `concurrency` flows back to back. */
  rate?: number;
}

/** Like RunResult, counting whole sign-in flows; `requestsPerFlow` says how many HTTP requests each is. */
export type SignInResult = RunResult & { requestsPerFlow: number; firstError?: string };

/** Runs complete sign-ins against the target for `duration` seconds and times each whole flow. */
export async function runSignInLoad(
  target: Target,
  watched: Watched,
  client: BenchClient,
  users: BenchUser[],
  settings: SignInSettings,
): Promise<SignInResult> {
  const latencies: number[] = [];
  let errors = 0;
  let httpRequests = 0;
  let firstError: string | undefined;
  let userIndex = 0;
  const flow = async () => {
    const user = users[userIndex % users.length];
    userIndex += 1;
    if (!user) throw new Error('no bench users');
    const started = performance.now();
    try {
      const result = await signIn(target, client, user);
      latencies.push(performance.now() - started);
      httpRequests += result.requests;
    } catch (error) {
      errors += 1;
      firstError ??= error instanceof Error ? error.message : String(error);
    }
  };

  const meter = startCpuMeter(watched);
  const started = performance.now();
  const deadline = started + settings.duration * 1000;
  if (settings.rate) {
    const interval = 1000 / settings.rate;
    const inFlight = new Set<Promise<void>>();
    for (let at = started; at < deadline; at += interval) {
      const wait = at - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const running: Promise<void> = flow().finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    await Promise.all(inFlight);
  } else {
    const worker = async () => {
      while (performance.now() < deadline) await flow();
    };
    await Promise.all(Array.from({ length: settings.concurrency }, worker));
  }
  const { wallMs, ...cpu } = meter.stop();

  return {
    ...summarizeLatencies(latencies, wallMs, errors, cpu),
    requestsPerFlow: latencies.length > 0 ? httpRequests / latencies.length : Number.NaN,
    ...(firstError ? { firstError } : {}),
  };
}

/** Waits `ms` of real time. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the clock is in the next whole second: for a test whose steps must fall in different
 * seconds (oidc-provider dates sign-ins in whole seconds), never to wait for something to happen.
 */
export const nextSecond = (): Promise<void> => sleep(1000 - (Date.now() % 1000) + 20);

/** Polls until `read` satisfies `done`, for at most `withinMs`; returns the last value read. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(10);
    value = await read();
  }
  return value;
}

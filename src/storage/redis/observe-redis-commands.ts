import { tracingChannel } from 'node:diagnostics_channel';
import type { CommandTraceContext } from 'ioredis';
import { commandLabel, type StoreObserver } from '../observer.ts';

/**
 * Times every Redis command through the channel ioredis publishes for observers ("ioredis:command",
 * node:diagnostics_channel; https://github.com/redis/ioredis#diagnostics-channel), so plain,
 * pipelined and cluster commands are all seen without wrapping the client. The channel belongs to
 * the process: every ioredis client in it is counted, which in a server is the server's own.
 * Without a subscriber ioredis skips the channel entirely, so this costs nothing while metrics are off.
 * @returns the unsubscribe function
 */
export function observeRedisCommands(observer: Required<Pick<StoreObserver, 'command'>>): () => void {
  const channel = tracingChannel('ioredis:command');
  const started = new WeakMap<object, number>();
  const onStart = (context: unknown) => {
    if (typeof context === 'object' && context !== null) started.set(context, performance.now());
  };
  // asyncEnd comes once the command settled, answered or failed (tracePromise sets `error` first).
  const onSettled = (message: unknown) => {
    const context = message as CommandTraceContext & { error?: unknown };
    const start = started.get(context);
    if (start === undefined) return;
    started.delete(context);
    observer.command('redis', commandLabel(context.command), (performance.now() - start) / 1000, context.error === undefined);
  };
  channel.start.subscribe(onStart);
  channel.asyncEnd.subscribe(onSettled);
  return () => {
    channel.start.unsubscribe(onStart);
    channel.asyncEnd.unsubscribe(onSettled);
  };
}

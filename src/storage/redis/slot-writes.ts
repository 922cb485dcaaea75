import type { ChainableCommander } from 'ioredis';
import { isCluster, type RedisClient } from './connect-redis.ts';

/** Queues the commands of one step; every key they touch is in one hash slot. */
export type SlotStep = (queue: ChainableCommander) => void;

/** A command's error (or null) and its reply, as ioredis reports them. */
export type Reply = [Error | null, unknown];

/** How many replicas must hold a write before it counts as done (Redis WAIT), and how long to wait. */
export interface Durability {
  replicas: number;
  timeoutMs: number;
}

/** Fewer replicas than asked acknowledged a write in time: it is on the primary, but not yet safe from its loss. */
export class ReplicationTimeoutError extends Error {
  constructor(acknowledged: number, wanted: number, timeoutMs: number) {
    super(`only ${acknowledged} of ${wanted} Redis replicas acknowledged the write within ${timeoutMs} ms`);
    this.name = 'ReplicationTimeoutError';
  }
}

export interface SlotWriter {
  /**
   * Runs `phases` in order, each a list of single-slot steps, and returns each step's replies (in
   * the order the steps were given, phase after phase). On one Redis (or a Sentinel primary) all
   * of them are one MULTI: one round trip, all or nothing. On a Cluster each step is a MULTI of its
   * own on the node that owns its slot, the steps of a phase run concurrently, and a phase starts
   * only when the one before it succeeded, so a caller orders its phases to make any partial
   * failure harmless. With `durable`, the answer comes only once `Durability.replicas` replicas
   * hold the writes (WAIT on the same connection, in the same round trip).
   */
  run(phases: SlotStep[][], options?: { durable?: boolean }): Promise<Reply[][]>;
}

export function createSlotWriter(client: RedisClient, durability: Durability = { replicas: 0, timeoutMs: 0 }): SlotWriter {
  const cluster = isCluster(client);

  /** One transaction of `steps` (all on one node), optionally followed by WAIT; replies split per step. */
  async function transact(steps: SlotStep[], durable: boolean): Promise<Reply[][]> {
    const wait = durable && durability.replicas > 0;
    const sizes: number[] = [];
    const queueSteps = (queue: ChainableCommander) => {
      for (const step of steps) {
        const before = queue.length;
        step(queue);
        sizes.push(queue.length - before);
      }
    };
    let replies: Reply[];
    if (!wait) {
      // A single command (a read of a Cluster step) needs no MULTI: it is atomic by itself.
      const queue = cluster && steps.length === 1 && commandCount(steps[0]) === 1 ? client.pipeline() : client.multi();
      queueSteps(queue);
      replies = ((await queue.exec()) ?? []) as Reply[];
    } else {
      // MULTI ... EXEC then WAIT, pipelined on one connection: WAIT counts the replicas that hold
      // every write this connection sent before it. https://redis.io/docs/latest/commands/wait/
      const queue = client.pipeline();
      // ioredis nests a transaction in a pipeline (Pipeline#multi, then #exec queues EXEC); its
      // typings leave multi off pipelines.
      (queue as ChainableCommander & { multi(): ChainableCommander }).multi();
      queueSteps(queue);
      queue.exec();
      queue.wait(durability.replicas, durability.timeoutMs);
      const raw = ((await queue.exec()) ?? []) as Reply[];
      const execReply = raw.at(-2);
      const waitReply = raw.at(-1);
      if (execReply?.[0]) {
        // As ioredis does for a plain MULTI: an aborted transaction lists what was refused in it.
        Object.assign(execReply[0], { previousErrors: raw.slice(0, -2).flatMap(([error]) => (error ? [error] : [])) });
        throw execReply[0];
      }
      if (waitReply?.[0]) throw waitReply[0];
      const acknowledged = Number(waitReply?.[1] ?? 0);
      if (acknowledged < durability.replicas) throw new ReplicationTimeoutError(acknowledged, durability.replicas, durability.timeoutMs);
      replies = ((execReply?.[1] as unknown[] | undefined) ?? []).map(
        (value): Reply => (value instanceof Error ? [value, null] : [null, value]),
      );
    }
    const failed = replies.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
    const split: Reply[][] = [];
    let offset = 0;
    for (const size of sizes) {
      split.push(replies.slice(offset, offset + size));
      offset += size;
    }
    return split;
  }

  /** How many commands a step queues (it is queued on a pipeline that is never sent). */
  const commandCount = (step: SlotStep | undefined) => {
    const probe = client.pipeline();
    step?.(probe);
    return probe.length;
  };

  return {
    async run(phases, { durable = false } = {}) {
      const steps = phases.flat();
      if (steps.length === 0) return [];
      if (!cluster) return transact(steps, durable);
      const results: Reply[][] = [];
      for (const phase of phases) {
        const replies = await Promise.all(phase.map(async (step) => (await transact([step], durable))[0] ?? []));
        results.push(...replies);
      }
      return results;
    },
  };
}

import { describe, expect, test } from '@jest/globals';
import { createAnnouncedCache } from '../../../src/storage/announced-cache.ts';
import { createMemoryChangeBus } from '../../../src/storage/memory/memory-change-feed.ts';
import type { ChangeFeed } from '../../../src/storage/ports.ts';

/** A loader that counts how often each id was read from "the database". */
function countingLoader() {
  const reads = new Map<string, number>();
  return {
    reads,
    load: (id: string) => async () => {
      reads.set(id, (reads.get(id) ?? 0) + 1);
      return { id };
    },
  };
}

describe('announced cache', () => {
  test('keeps at most maxEntries records, dropping the least recently stored', async () => {
    const cache = createAnnouncedCache<{ id: string }>(createMemoryChangeBus().feed(), 'user', { ttlMs: 60_000, maxEntries: 2 });
    await cache.start();
    const { reads, load } = countingLoader();
    for (const id of ['a', 'b', 'c']) await cache.read(id, load(id));
    await cache.read('b', load('b'));
    await cache.read('c', load('c'));
    expect([reads.get('b'), reads.get('c')]).toEqual([1, 1]); // still cached
    await cache.read('a', load('a'));
    expect(reads.get('a')).toBe(2); // was dropped when c came in
  });

  test('a failed announcement is thrown to a tool, and only reported by a server, after dropping the local copy', async () => {
    const broken: ChangeFeed = {
      publish: async () => {
        throw new Error('connection lost');
      },
      subscribe: async () => {},
      isLive: () => true,
      close: async () => {},
    };
    const tool = createAnnouncedCache<{ id: string }>(broken, 'user', { ttlMs: 0 });
    await expect(tool.announce('u1')).rejects.toThrow(
      'the change to user "u1" is saved, but running servers could not be told (connection lost)',
    );

    const reported: string[] = [];
    const server = createAnnouncedCache<{ id: string }>(broken, 'user', {
      ttlMs: 60_000,
      onAnnounceFailure: (error) => reported.push(error.message),
    });
    await server.start();
    const { reads, load } = countingLoader();
    await server.read('u1', load('u1'));
    await expect(server.announce('u1')).resolves.toBeUndefined();
    expect(reported).toEqual([
      'the change to user "u1" is saved, but running servers could not be told (connection lost); they see it when their cached copy expires',
    ]);
    await server.read('u1', load('u1'));
    expect(reads.get('u1')).toBe(2);
  });
});

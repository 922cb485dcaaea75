import { describe, expect, test } from '@jest/globals';
import { createMemoryOidcStore } from '../../../src/storage/memory/memory-oidc-adapter.ts';

/** The embedded mode's store holds a bounded amount; the least recently used record goes first. */
describe('memory oidc store bound', () => {
  const record = (index: number) => ({ uid: `uid-${index}`, params: { state: 'x'.repeat(1000) } });

  test('past maxBytes the least recently used records are dropped, and a record just read is kept', async () => {
    const { adapter } = createMemoryOidcStore({ maxBytes: 10 * 1100 });
    const interactions = adapter('Interaction');
    for (let index = 0; index < 10; index += 1) await interactions.upsert(`i${index}`, record(index), 3600);
    expect(await interactions.find('i0')).toBeDefined(); // read: now the most recently used
    for (let index = 10; index < 15; index += 1) await interactions.upsert(`i${index}`, record(index), 3600);

    expect(await interactions.find('i0')).toBeDefined();
    for (const id of ['i1', 'i2', 'i3', 'i4', 'i5']) expect(await interactions.find(id)).toBeUndefined();
    for (const id of ['i6', 'i9', 'i10', 'i14']) expect(await interactions.find(id)).toBeDefined();
  });

  test('4,000 interactions with a 14 KB state stay within the bound', async () => {
    const { adapter } = createMemoryOidcStore({ maxBytes: 4 * 1024 * 1024 });
    const interactions = adapter('Interaction');
    const state = 'y'.repeat(14 * 1024);
    for (let index = 0; index < 4000; index += 1) await interactions.upsert(`flood${index}`, { params: { state } }, 3600);
    let kept = 0;
    for (let index = 0; index < 4000; index += 1) if (await interactions.find(`flood${index}`)) kept += 1;
    expect(kept).toBeGreaterThan(0);
    expect(kept * 14 * 1024).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(await interactions.find('flood3999')).toBeDefined();
  });
});

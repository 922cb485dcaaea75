import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { startMongo, startRedis, type TestService } from '../../scripts/lib/local-services.ts';
import { useTestApp } from '../support/app-fixture.ts';
import { eventually } from '../support/eventually.ts';

interface LogLine {
  event?: string;
  store?: string;
  connection?: string;
  reason?: string;
}

/**
 * A Redis and a MongoDB-wire server of this file's own, stopped and brought back on the same port:
 * the server says so once when each goes and once when each comes back, however many requests
 * fail in between.
 */
describe('store outages are logged once each way, not per request', () => {
  let redis: TestService;
  let mongo: TestService;
  const logLines: string[] = [];
  beforeAll(async () => {
    [redis, mongo] = await Promise.all([startRedis(), startMongo()]);
  });
  const app = useTestApp('store-outage', () => ({
    backends: { redisUrl: redis.url, mongodbUri: `${mongo.url}/outage` },
    logLines,
  }));
  afterAll(async () => {
    await Promise.all([redis?.stop(), mongo?.stop()]);
  });
  // Each case stops a server and waits for the driver to notice, then brings it back.
  jest.setTimeout(90_000);

  const events = (store: string) =>
    logLines
      .map((line) => JSON.parse(line) as LogLine)
      .filter((line) => line.store === store && (line.event === 'store.lost' || line.event === 'store.restored'));
  const readiness = async () => (await fetch(`${app.server.url}/readyz`)).status;
  const portOf = (url: string) => Number(new URL(url).port);

  test.each([
    ['redis', () => redis, (port: number) => startRedis({ port }), (service: TestService) => (redis = service)],
    ['mongodb', () => mongo, (port: number) => startMongo({ port }), (service: TestService) => (mongo = service)],
  ] as const)(
    '%s: stopped, ten failed probes, brought back: one "lost" line, one "restored" line',
    async (store, current, start, replace) => {
      expect(await readiness()).toBe(200);
      const port = portOf(current().url);
      await current().stop();
      const failedProbes = async () => {
        expect(await Promise.all([1, 2, 3, 4, 5].map(readiness))).toEqual([503, 503, 503, 503, 503]);
      };
      await failedProbes();
      // Redis says at once; MongoDB's driver decides at its next heartbeat (every 10 s).
      await eventually(
        async () => events(store),
        (lines) => lines.length > 0,
        20_000,
      );
      await failedProbes();
      expect(events(store).map((line) => line.event)).toEqual(['store.lost']);

      replace(await start(port));
      expect(await eventually(readiness, (status) => status === 200, 30_000)).toBe(200);
      const seen = await eventually(
        async () => events(store),
        (lines) => lines.length >= 2,
        10_000,
      );
      expect(seen.map((line) => line.event)).toEqual(['store.lost', 'store.restored']);
      expect(seen[0]).toMatchObject({ connection: 'main' });
    },
  );
});

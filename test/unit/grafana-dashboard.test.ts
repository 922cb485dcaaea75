import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { createMetrics } from '../../src/observability/metrics.ts';

const DASHBOARD = fileURLToPath(new URL('../../grafana/idp-dashboard.json', import.meta.url));

interface Panel {
  title: string;
  type: string;
  datasource?: { uid?: string };
  targets?: Array<{ expr: string; datasource?: { uid?: string } }>;
}

/** The metric names a PromQL expression reads (ours, and Node's process_* and nodejs_* defaults). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:idp|nodejs|process)_[a-z0-9_]+)\b/g)].map((match) => String(match[1]));
}

/** The Grafana dashboard in the repository charts metrics the server really exports, and all of ours. */
describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    title: string;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string }> };
  };
  const metrics = createMetrics();

  test('every metric it charts is one the server exports (histograms by their _bucket, _sum and _count series)', async () => {
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
    const charted = dashboard.panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => metricsIn(target.expr)));
    expect(charted.length).toBeGreaterThan(15);
    const unknown = charted.filter((name) => !exported.has(name.replace(/_(bucket|sum|count)$/, '')));
    expect(unknown).toEqual([]);
  });

  test('every metric of ours is charted, so a new one cannot be forgotten', async () => {
    const ours = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name).filter((name) => name.startsWith('idp_'));
    const charted = new Set(
      dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).flatMap((target) => metricsIn(target.expr).map((name) => name.replace(/_(bucket|sum|count)$/, ''))),
      ),
    );
    expect(ours.filter((name) => !charted.has(name))).toEqual([]);
  });

  test('each panel has a title and reads the Prometheus chosen in the dashboard ($datasource)', () => {
    // Grafana's variable syntax, not a template literal.
    const chosen = ['$', '{datasource}'].join('');
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
    for (const panel of dashboard.panels) {
      expect(panel.title).toMatch(/\S/);
      expect(panel.datasource?.uid).toBe(chosen);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe(chosen);
    }
  });
});

import { describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../../src/config/load-config.ts';
import { CONFIG_DIR } from '../../support/test-config.ts';

const load = (env: Record<string, string>) => loadConfig({ env: { NODE_ENV: 'test', ...env }, configDir: CONFIG_DIR });

/** The settings of tracing and security events: their defaults, and a bad value named by its variable. */
describe('observability settings', () => {
  test('tracing is off by default; security events are kept 90 days', () => {
    const loaded = load({});
    expect(loaded.ok && loaded.config.tracing).toEqual({ protocol: 'http/protobuf', serviceName: 'idp' });
    expect(loaded.ok && loaded.config.securityEvents).toEqual({ retentionDays: 90 });
  });

  test('an OTLP endpoint, protocol, headers and service name are read as OpenTelemetry names them', () => {
    const loaded = load({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-team=id',
      OTEL_SERVICE_NAME: 'idp-eu',
    });
    expect(loaded.ok && loaded.config.tracing).toEqual({
      endpoint: 'https://collector.example:4318',
      protocol: 'http/json',
      headers: ['Authorization=Bearer%20abc', 'x-team=id'],
      serviceName: 'idp-eu',
    });
  });

  test('a bad value is one line naming its variable', () => {
    const loaded = load({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      IDP_SECURITY_EVENT_RETENTION_DAYS: '0',
    });
    expect(loaded.ok).toBe(false);
    const errors = loaded.ok ? [] : loaded.errors;
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^tracing\.endpoint \(OTEL_EXPORTER_OTLP_ENDPOINT\): must be/),
        'tracing.protocol (OTEL_EXPORTER_OTLP_PROTOCOL): must be http/protobuf or http/json (grpc is not supported)',
        'securityEvents.retentionDays (IDP_SECURITY_EVENT_RETENTION_DAYS): must be at least 1 day',
      ]),
    );
  });
});

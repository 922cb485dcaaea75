import { trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import { requestLogFields } from './request-scope.ts';

/** Fields that may hold secrets anywhere in a log line; pino replaces their values. */
const REDACT_PATHS = [
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'client_secret',
  '*.client_secret',
  'code',
  '*.code',
  'token',
  '*.token',
  'access_token',
  'refresh_token',
  'id_token',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

/**
 * What every line carries besides its own fields: the request's id, client and account
 * (src/logging/request-scope.ts), and with tracing on, the trace and span it was written in, so a
 * log line leads to its trace. Without tracing, OpenTelemetry's API answers "no span" at no cost.
 */
function correlation(): Record<string, string> {
  const fields = requestLogFields();
  const span = trace.getActiveSpan()?.spanContext();
  if (span) {
    fields.traceId = span.traceId;
    fields.spanId = span.spanId;
  }
  return fields;
}

/** The one logger, made in main (or a test) and passed down. JSON lines, secrets redacted, correlated. */
export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'idp' }, mixin: correlation }, destination);
}

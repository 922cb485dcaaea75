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
 * The one logger, made in main (or a test) and passed down. JSON lines, secrets redacted. A line
 * written while a request is served carries its request id, and its client and account once known
 * (src/logging/request-scope.ts), whichever module writes it.
 */
export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'idp' }, mixin: requestLogFields },
    destination,
  );
}

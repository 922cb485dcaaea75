import type { Message } from './i18n/translate.ts';

/**
 * The one application error: a stable `code` for programs, a `status` for HTTP, and `expose`, which
 * says whether the message may reach the person or tool on the other end (as in Koa and
 * oidc-provider: by default only below 500). Protocol errors stay oidc-provider's own.
 *
 * Codes in use: `usage` (a command line is wrong: exit 2), `invalid_input` (an administrator's or
 * operator's value is refused), `not_found`, `conflict`, `startup` (the server cannot start, for a
 * reason the operator can fix), `already_consumed` (a single-use record was redeemed twice),
 * `invalid_body` (a request body that cannot be read), `store_unavailable` (Redis is failing over or unreachable: 503).
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  /** What a page tells the person, in their language (the message itself is for logs and tools). */
  readonly publicMessage: Message | undefined;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? 400;
    this.expose = options.expose ?? this.status < 500;
    this.publicMessage = options.publicMessage;
  }
}

export interface AppErrorOptions {
  status?: number;
  expose?: boolean;
  publicMessage?: Message;
  cause?: unknown;
}

/** Whether `error` is an AppError, with `code` when one is given. */
export function isAppError(error: unknown, code?: string): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}

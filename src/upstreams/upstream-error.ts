/** Why an upstream sign-in failed; each is a logged event and a page that says what to do. */
export type UpstreamFailure = 'unreachable' | 'invalid_response' | 'no_identity';

/**
 * A sign-in through an upstream that cannot go on; `message` is for the log (only the message: the
 * library's error it wraps may carry the response parameters), `reason` picks the page's text.
 */
export class UpstreamError extends Error {
  readonly reason: UpstreamFailure;

  constructor(reason: UpstreamFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamError';
    this.reason = reason;
  }
}

import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { currentRequest } from '../logging/request-scope.ts';

export const REQUEST_ID_ATTRIBUTE = 'idp.request_id';

/**
 * Puts the request id on every span of a request. Spans started inside the request scope get it at
 * once; the few started before the scope exists (the HTTP server span, the first middleware's) wait
 * here until a descendant starts inside the scope, which then names its ancestors too. Each waiting
 * span leaves when it ends, so nothing is kept past its request.
 */
export class RequestIdSpanProcessor implements SpanProcessor {
  private readonly waiting = new Map<string, { span: Span; parent: string | undefined }>();

  onStart(span: Span, _parentContext: Context): void {
    const requestId = currentRequest()?.requestId;
    const parent = span.parentSpanContext?.spanId;
    if (!requestId) {
      this.waiting.set(span.spanContext().spanId, { span, parent });
      return;
    }
    span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
    for (let ancestor = parent && this.waiting.get(parent); ancestor; ancestor = ancestor.parent && this.waiting.get(ancestor.parent)) {
      ancestor.span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
      this.waiting.delete(ancestor.span.spanContext().spanId);
    }
  }

  onEnd(span: ReadableSpan): void {
    this.waiting.delete(span.spanContext().spanId);
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.waiting.clear();
  }
}

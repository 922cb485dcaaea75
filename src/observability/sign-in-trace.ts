import {
  type Context,
  context,
  isSpanContextValid,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import type { Middleware } from 'koa';
import type { Adapter } from 'oidc-provider';
import { currentRequest } from '../logging/request-scope.ts';
import type { OidcAdapterFactory } from '../storage/ports.ts';

/**
 * One sign-in, one trace. A browser does not send `traceparent`, so each request of a sign-in
 * would start a trace of its own. Instead, the authorization request's trace is kept in a cookie
 * scoped to the sign-in's own paths (/interaction/ and /auth/<uid>, never /auth itself, where a new
 * sign-in starts a new trace), and the propagator below continues it. The app's token request
 * comes from its server, so the authorization code carries the trace: redeeming it opens a
 * "token response" span in the sign-in's trace, linked to the token request's own.
 */
export const TRACE_COOKIE = 'idp_trace';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function parseTraceparent(value: string | undefined): SpanContext | undefined {
  const match = value ? TRACEPARENT.exec(value) : null;
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  const spanContext = { traceId: match[1], spanId: match[2], traceFlags: Number.parseInt(match[3], 16), isRemote: true };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

function traceparentOf(span: Span | undefined): string | undefined {
  const spanContext = span?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${(spanContext.traceFlags & 1).toString(16)}`;
}

/** Continues the sign-in's trace from its cookie, when the request carries no traceparent of its own. */
export class SignInCookiePropagator implements TextMapPropagator {
  inject(): void {}

  extract(parent: Context, carrier: unknown, getter: TextMapGetter): Context {
    if (trace.getSpanContext(parent)) return parent;
    const header = getter.get(carrier, 'cookie');
    const cookies = Array.isArray(header) ? header.join('; ') : (header ?? '');
    const value = cookies
      .split(';')
      .map((cookie) => cookie.trim())
      .find((cookie) => cookie.startsWith(`${TRACE_COOKIE}=`))
      ?.slice(TRACE_COOKIE.length + 1);
    const spanContext = parseTraceparent(value);
    return spanContext ? trace.setSpanContext(parent, spanContext) : parent;
  }

  fields(): string[] {
    return [];
  }
}

/** In front of oidc-provider: an authorization request that starts a sign-in leaves its trace in the cookie. */
export function rememberSignInTrace({
  authorizationPath,
  maxAgeSeconds,
}: {
  authorizationPath: string;
  maxAgeSeconds: number;
}): Middleware {
  return async function rememberSignInTrace(ctx, next) {
    await next();
    if (ctx.path !== authorizationPath || ctx.status < 300 || ctx.status > 303) return;
    const value = traceparentOf(trace.getActiveSpan());
    if (!value) return;
    // Not signed: it names a trace, which grants nothing. One cookie per path, so neither replaces the other.
    const options = { httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, maxAge: maxAgeSeconds * 1000, signed: false };
    ctx.cookies.set(TRACE_COOKIE, value, { ...options, path: '/interaction/' });
    ctx.cookies.set(TRACE_COOKIE, value, { ...options, path: `${authorizationPath}/` });
  };
}

/**
 * oidc-provider's storage, with the trace of the request that issued an authorization code kept in
 * the code's record, and a "token response" span opened in that trace when the code is redeemed
 * (ended with the token request). The record's extra field is ignored by oidc-provider.
 */
export function withSignInTraces(factory: OidcAdapterFactory): OidcAdapterFactory {
  const tracer = trace.getTracer('idp');
  /** Requests that already opened their sign-in's span (a code is read more than once per token request). */
  const opened = new WeakSet<object>();
  return function traced(model) {
    const adapter = factory(model);
    if (model !== 'AuthorizationCode') return adapter;
    const wrapped: Adapter = {
      upsert(id, payload, expiresIn) {
        const traceparent = traceparentOf(trace.getActiveSpan());
        return adapter.upsert(id, traceparent ? { ...payload, traceparent } : payload, expiresIn);
      },
      async find(id) {
        const payload = await adapter.find(id);
        const signIn = parseTraceparent(typeof payload?.traceparent === 'string' ? payload.traceparent : undefined);
        const request = currentRequest();
        const tokenRequest = trace.getActiveSpan()?.spanContext();
        if (signIn && request && !opened.has(request)) {
          opened.add(request);
          const span = tracer.startSpan(
            'token response',
            { links: tokenRequest ? [{ context: tokenRequest }] : [], attributes: { 'idp.request_id': request.requestId } },
            trace.setSpanContext(context.active(), signIn),
          );
          request.atEnd.push(() => span.end());
        }
        return payload;
      },
      consume: (id) => adapter.consume(id),
      destroy: (id) => adapter.destroy(id),
      revokeByGrantId: (grantId) => adapter.revokeByGrantId(grantId),
      findByUid: (uid) => adapter.findByUid(uid),
      findByUserCode: (userCode) => adapter.findByUserCode(userCode),
    };
    return wrapped;
  };
}

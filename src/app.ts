import Koa, { type Middleware } from 'koa';
import compose from 'koa-compose';
import mount from 'koa-mount';
import serve from 'koa-static';
import views from 'koa-views';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { selfUrl } from './config/listen.ts';
import type { Config } from './config/schema.ts';
import { serveBrandStylesheet } from './http/brand-stylesheet.ts';
import { createCsrf } from './http/csrf.ts';
import { errorHandler, notFound } from './http/error-handler.ts';
import { serveFavicon } from './http/favicon.ts';
import { flashMessages } from './http/flash.ts';
import { createHealthRouter } from './http/health.ts';
import { httpsGuard } from './http/https-guard.ts';
import { localize } from './http/locale.ts';
import { requestContext } from './http/request-context.ts';
import { securityHeaders } from './http/security-headers.ts';
import { serveVendorAssets } from './http/vendor-assets.ts';
import type { Metrics } from './observability/metrics.ts';
import { rememberSignInTrace } from './observability/sign-in-trace.ts';
import { authorizationGuard } from './oidc/authorization-guard.ts';
import { noteProviderRequest } from './oidc/request-scope.ts';
import { staticAnswers } from './oidc/static-answers.ts';
import { createLinkedSignInsRouter, linkedSignInsSection } from './pages/account/linked-sign-ins.ts';
import { createAccountRouter } from './pages/account/router.ts';
import type { Demo } from './pages/demo/demo.ts';
import { createTokenDebugger } from './pages/demo/token-debugger.ts';
import { createHomeRouter } from './pages/home.ts';
import { createInteractionRouter } from './pages/interaction/router.ts';
import { createFederationHook } from './pages/interaction/upstream.ts';
import { createUpstreamInteractionRouter } from './pages/interaction/upstream-router.ts';
import { refusePostWhenDisabled } from './pages/provider-pages.ts';
import { createResetPasswordRouter } from './pages/reset-password.ts';
import { createUpstreamCallbackRouter } from './pages/upstream-callback.ts';
import { createVerifyEmailRouter } from './pages/verify-email.ts';
import { ASSETS_DIR, VIEWS_DIR } from './paths.ts';
import type { RateLimit } from './rate-limit.ts';
import type { UpstreamServices } from './upstreams/create-upstream-services.ts';
import type { UserServices } from './users/create-user-services.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  provider: Provider;
  users: UserServices;
  /** Resolves when every backing store answers (readiness); rejects naming the one that does not. */
  ping(): Promise<void>;
  /** Sign cookies (Koa's and the CSRF tokens'); the same keys as oidc-provider's. */
  cookieKeys: string[];
  /** Present only in the embedded mode. */
  demo?: Demo | undefined;
  /** Authorization requests per client address (each without a session stores an interaction). */
  authorizationRequests: RateLimit;
  /** True once the process is shutting down: readiness then says 503 (main sets it on SIGTERM). */
  stopping?: () => boolean;
  /** Prometheus metrics, when METRICS_PORT is set. */
  metrics?: Metrics | undefined;
  /** Sign-in through other identity providers (IDP_UPSTREAMS). */
  upstreams: UpstreamServices;
}

/**
 * The Koa app around the provider: plumbing first (request id and log line, security headers,
 * https, language, views, errors), then the pages people see, then oidc-provider itself.
 * No I/O and no globals: a test builds as many as it likes (through src/assemble.ts).
 */
export function createApp({
  config,
  logger,
  provider,
  users,
  ping,
  cookieKeys,
  demo,
  authorizationRequests,
  stopping,
  metrics,
  upstreams,
}: AppDeps): Koa {
  const csrf = createCsrf(cookieKeys);

  // With a trusted proxy, the client IP is `proxyHops` entries from the end of X-Forwarded-For (the
  // entries a client wrote itself come first and are ignored); without one, XFF is not read at all.
  const app = new Koa({ proxy: config.trustProxy, maxIpsCount: config.proxyHops, keys: cookieKeys });
  app.silent = true; // errors are logged by our handler, not printed by Koa

  app.use(requestContext(logger));
  if (metrics) app.use(metrics.http);
  app.use(securityHeaders());
  app.use(httpsGuard(config.issuer, logger));
  // Discovery and JWKS: the same bytes every time, answered before anything page-related.
  app.use(staticAnswers(provider, config.issuer));

  const language = localize(config.defaultLocale);
  const templates = views(VIEWS_DIR, {
    extension: 'pug',
    options: {
      cache: config.env !== 'development',
      basedir: VIEWS_DIR,
      productName: config.productName,
      brand: config.branding,
      // Whether pages offer passkeys at all (not when ISSUER is an IP address).
      passkeysEnabled: users.passkeys.available,
      // "Continue with ..." on the sign-in and registration pages, per language (IDP_UPSTREAMS).
      upstreamButtons: upstreams.buttons,
    },
  });
  const errors = errorHandler(logger);
  const toProvider = mount(provider);
  // The endpoints apps call (token, userinfo, introspection, revocation, PAR) answer JSON: they go
  // straight to oidc-provider, past the pages' routers, flash messages and assets. The language and
  // views stay, for the rare browser that gets an HTML error page from one of them.
  app.use(machineEndpoints(provider, compose([language, templates, errors, noteProviderRequest, toProvider, notFound])));

  app.use(language);
  app.use(templates);
  app.use(errors);

  app.use(flashMessages);
  app.use(serveBrandStylesheet(config.branding.primaryColor));
  app.use(serveFavicon(config.branding));
  app.use(serveVendorAssets);
  app.use(mount('/assets', serve(ASSETS_DIR, { maxage: 3600_000, index: false })));
  app.use(createHealthRouter(ping, stopping).routes());
  app.use(createHomeRouter(config.issuer).routes());
  app.use(createVerifyEmailRouter(users.verification, csrf, { provider, userService: users.userService }).routes());
  app.use(createResetPasswordRouter(users.passwordReset, csrf, config.password.minLength).routes());
  app.use(
    createAccountRouter({
      provider,
      userService: users.userService,
      profiles: users.profiles,
      verification: users.verification,
      sessions: users.sessions,
      secondFactors: users.secondFactors,
      passkeys: users.passkeys,
      factorChanges: users.factorChanges,
      credentials: users.credentials,
      csrf,
      issuer: config.issuer,
      logger,
      claimScopes: config.claimScopes,
      events: users.events,
      linkedSignIns: upstreams.clients.size > 0 ? linkedSignInsSection(upstreams) : undefined,
    }).routes(),
  );
  // A sign-in through an upstream may finish on the second step's pages too: they tell this hook.
  const federation = upstreams.clients.size > 0 ? createFederationHook(upstreams, users.userService, users.factorChanges) : undefined;
  if (upstreams.clients.size > 0) {
    app.use(
      createLinkedSignInsRouter({
        provider,
        upstreams,
        userService: users.userService,
        passwordReset: users.passwordReset,
        secondFactors: users.secondFactors,
        factorChanges: users.factorChanges,
        csrf,
        logger,
      }).routes(),
    );
    app.use(
      createUpstreamCallbackRouter({
        provider,
        upstreams,
        userService: users.userService,
        secondFactors: users.secondFactors,
        factorChanges: users.factorChanges,
        issuer: config.issuer,
      }).routes(),
    );
    app.use(
      createUpstreamInteractionRouter({
        provider,
        upstreams,
        userService: users.userService,
        secondFactors: users.secondFactors,
        passkeys: users.passkeys,
        mfaPolicy: config.mfa,
        verification: users.verification,
        requireVerifiedEmail: config.requireVerifiedEmail,
        csrf,
        logger: logger.child({ module: 'upstreams' }),
        events: users.events,
        factorChanges: users.factorChanges,
        federation,
      }).routes(),
    );
  }
  app.use(
    createInteractionRouter({
      provider,
      userService: users.userService,
      verification: users.verification,
      passwordReset: users.passwordReset,
      secondFactors: users.secondFactors,
      passkeys: users.passkeys,
      factorChanges: users.factorChanges,
      requireVerifiedEmail: config.requireVerifiedEmail,
      mfaPolicy: config.mfa,
      csrf,
      resources: config.resources,
      claimScopes: config.claimScopes,
      logger,
      events: users.events,
      federation,
    }).routes(),
  );
  if (demo) app.use(createTokenDebugger({ demo, issuer: config.issuer, serverUrl: selfUrl(config), csrf }).routes());
  app.use(
    authorizationGuard({
      path: provider.pathFor('authorization'),
      maxParameterLength: config.authorizationRequests.maxParameterLength,
      perAddress: authorizationRequests,
    }),
  );
  if (!config.protocol.authorizationPost)
    app.use(refusePostWhenDisabled([provider.pathFor('authorization'), provider.pathFor('end_session')]));
  app.use(noteProviderRequest);
  if (config.tracing.endpoint)
    app.use(rememberSignInTrace({ authorizationPath: provider.pathFor('authorization'), maxAgeSeconds: config.ttl.interaction }));
  app.use(toProvider);
  app.use(notFound);
  return app;
}

/** oidc-provider's endpoints that only ever answer apps, in JSON. */
const MACHINE_ROUTES = ['token', 'userinfo', 'introspection', 'revocation', 'pushed_authorization_request'] as const;

/** Sends requests for the machine endpoints down `chain`; every other request goes on to the pages. */
function machineEndpoints(provider: Provider, chain: Middleware): Middleware {
  const paths = new Set<string>(MACHINE_ROUTES.map((route) => provider.pathFor(route)));
  return function routeMachineEndpoints(ctx, next) {
    return paths.has(ctx.path) ? chain(ctx, async () => {}) : next();
  };
}

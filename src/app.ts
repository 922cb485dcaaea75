import Router from '@koa/router';
import Koa from 'koa';
import mount from 'koa-mount';
import serve from 'koa-static';
import views from 'koa-views';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import type { Logger } from 'pino';
import { accountClient } from './oidc/configuration/account-client.ts';
import { createAccountRouter } from './pages/account/router.ts';
import type { PasswordBlocklist } from './users/password-blocklist.ts';
import type { UserService } from './users/user-service.ts';
import { createUserServices } from './users/create-user-services.ts';
import { createLoginThrottle } from './users/login-throttle.ts';
import { createRegisteredClientAdapter, withRegisteredClients } from './clients/client-adapter.ts';
import { createSecretBox } from './clients/secret-box.ts';
import type { Config, Jwks } from './config/schema.ts';
import { createDemoRouter, type Demo } from './pages/demo.ts';
import { serveBrandStylesheet } from './http/brand-stylesheet.ts';
import { createCsrf } from './http/csrf.ts';
import { errorHandler, notFound } from './http/error-handler.ts';
import { flashMessages } from './http/flash.ts';
import { createHealthRouter } from './http/health.ts';
import { httpsGuard } from './http/https-guard.ts';
import { localize } from './http/locale.ts';
import { createResetPasswordRouter } from './pages/reset-password.ts';
import { requestContext } from './http/request-context.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createVerifyEmailRouter } from './pages/verify-email.ts';
import { createInteractionRouter } from './pages/interaction/router.ts';
import { createProvider } from './oidc/create-provider.ts';
import { createFindAccount } from './oidc/find-account.ts';
import { ASSETS_DIR, VIEWS_DIR } from './paths.ts';
import type { Stores } from './storage/ports.ts';


export interface AppDeps {
  config: Config;
  stores: Stores;
  logger: Logger;
  jwks: Jwks;
  cookieKeys: string[];
  /** Clients from configuration (and the demo client in the embedded mode). */
  clients: ClientMetadata[];
  /** Common and breached passwords, loaded once by the caller (it reads a data file). */
  blocklist: PasswordBlocklist;
  /** Present only in the embedded mode. */
  demo?: Demo;
}

export interface App {
  app: Koa;
  provider: Provider;
  userService: UserService;
}

/** Builds the whole server from its dependencies. No I/O, no globals: tests build as many as they like. */
export function createApp({ config, stores, logger, jwks, cookieKeys, clients, blocklist, demo }: AppDeps): App {
  const { userService, verification, passwordReset, profiles } = createUserServices({
    config,
    stores,
    blocklist,
    viewsDir: VIEWS_DIR,
    logger,
  });
  const provider = createProvider({
    config,
    jwks,
    cookieKeys,
    adapter: withRegisteredClients(
      stores.oidcAdapter,
      createRegisteredClientAdapter(stores.clients, createSecretBox(config.clientSecretKeys ?? []), logger),
    ),
    findAccount: createFindAccount(userService),
    clients: [...clients, accountClient(config.issuer)],
    logger,
  });
  const csrf = createCsrf(cookieKeys);
  const throttle = createLoginThrottle(stores.attempts, config.bruteForce);

  // With a trusted proxy, the client IP is `proxyHops` entries from the end of X-Forwarded-For (the
  // entries a client wrote itself come first and are ignored); without one, XFF is not read at all.
  const app = new Koa({ proxy: config.trustProxy, maxIpsCount: config.proxyHops, keys: cookieKeys });
  app.silent = true; // errors are logged by our handler, not printed by Koa

  const site = new Router();
  site.get('/', async function home(ctx) {
    await ctx.render('home', { title: undefined, discoveryUrl: new URL('/.well-known/openid-configuration', config.issuer) });
  });
  // A plain sign-out link for people: oidc-provider's end_session shows its confirmation page.
  site.get('/logout', async function logout(ctx) {
    ctx.redirect('/session/end');
  });

  app.use(requestContext(logger));
  app.use(securityHeaders());
  app.use(httpsGuard(config.issuer, logger));
  app.use(localize(config.defaultLocale));
  app.use(
    views(VIEWS_DIR, {
      extension: 'pug',
      options: { cache: config.env !== 'development', basedir: VIEWS_DIR, productName: config.productName, brand: config.branding },
    }),
  );
  app.use(errorHandler(logger));
  app.use(flashMessages);
  app.use(serveBrandStylesheet(config.branding.primaryColor));
  app.use(mount('/assets', serve(ASSETS_DIR, { maxage: 3600_000, index: false })));
  app.use(createHealthRouter(() => stores.ping()).routes());
  app.use(site.routes());
  app.use(createVerifyEmailRouter(verification, csrf).routes());
  app.use(createResetPasswordRouter(passwordReset, csrf, config.password.minLength).routes());
  app.use(
    createAccountRouter({
      provider,
      userService,
      profiles,
      verification,
      stores,
      csrf,
      issuer: config.issuer,
      logger,
    }).routes(),
  );
  app.use(createInteractionRouter({
      provider,
      userService,
      throttle,
      verification,
      passwordReset,
      requireVerifiedEmail: config.requireVerifiedEmail,
      csrf,
      resources: config.resources,
      logger,
    }).routes());
  if (demo) app.use(createDemoRouter(demo, config.issuer).routes());
  app.use(mount(provider));
  app.use(notFound);

  return { app, provider, userService };
}

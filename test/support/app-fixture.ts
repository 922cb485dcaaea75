import { afterAll, beforeAll } from '@jest/globals';
import type { ClientMetadata } from 'oidc-provider';
import type * as oidc from 'openid-client';
import { dropIsolation, type Isolation, isolation, redisEnvOf } from './backends.ts';
import { RelyingParty } from './relying-party.ts';
import { startSmtpServer, type TestSmtpServer } from './smtp.ts';
import { type RunningApp, startTestApp, type TestAppOptions } from './test-app.ts';

export interface FixtureAppOptions extends Omit<TestAppOptions, 'backends'> {
  /** Changes to the file's backends, e.g. `{ redisUrl }` of a Redis the test stops on purpose. */
  backends?: Partial<Isolation>;
}

export interface AppFixtureOptions extends FixtureAppOptions {
  /** A client to discover as `rp` once the app runs. */
  relyingParty?: ClientMetadata;
  /** How that relying party reaches the app (e.g. through a TLS proxy); plain fetch otherwise. */
  relyingPartyFetch?: oidc.CustomFetch;
  /** Capture the emails of the file's apps in an SMTP server of its own (`smtp`), set as their SMTP_URL. */
  mail?: boolean;
}

export interface AppFixture {
  /** The file's own Redis key prefix and database, dropped after the file. */
  readonly scope: Isolation;
  /** The app, from the fixture's beforeAll on. */
  readonly server: RunningApp;
  /** The relying party of `relyingParty`, from the fixture's beforeAll on. */
  readonly rp: RelyingParty;
  /** The SMTP server that receives every email of the file's apps (with `mail: true`). */
  readonly smtp: TestSmtpServer;
  /** Another app on the same backends and mail capture (other options are not inherited); closed with the file's app. */
  start(options?: FixtureAppOptions): Promise<RunningApp>;
  /** What an admin tool (npm run users, clients) needs to work on this app's data and tell it of changes. */
  toolEnv(): Record<string, string>;
}

/**
 * The app a test file runs against: built in beforeAll on the real Redis and MongoDB, in the
 * file's own key prefix and database (named after `label`), closed and its data dropped in
 * afterAll. Jest runs hooks in the order they are declared, so `options` may be a function that
 * reads what an earlier beforeAll set up (an SMTP server's URL), and an afterAll declared after
 * this call runs once the app is closed.
 */
export function useTestApp(label: string, options: AppFixtureOptions | (() => AppFixtureOptions) = {}): AppFixture {
  const scope = isolation(label);
  const started: RunningApp[] = [];
  let server: RunningApp | undefined;
  let rp: RelyingParty | undefined;
  let smtp: TestSmtpServer | undefined;

  const start = async ({ backends, env, ...rest }: FixtureAppOptions = {}) => {
    const app = await startTestApp({
      ...rest,
      env: { ...(smtp ? { SMTP_URL: smtp.url } : {}), ...env },
      backends: { ...scope, ...backends },
    });
    let closing: Promise<void> | undefined;
    // Closing twice is harmless, so a test may close an app it started and the fixture still can.
    const once: RunningApp = { ...app, close: () => (closing ??= app.close()) };
    started.push(once);
    return once;
  };

  beforeAll(async () => {
    const { relyingParty, relyingPartyFetch, mail, ...appOptions } = typeof options === 'function' ? options() : options;
    if (mail) smtp = await startSmtpServer();
    server = await start(appOptions);
    if (relyingParty) rp = await RelyingParty.discover(server.url, relyingParty, { fetch: relyingPartyFetch });
  });
  afterAll(async () => {
    await Promise.all(started.map((app) => app.close()));
    await dropIsolation(scope);
    await smtp?.close();
  });

  return {
    scope,
    get server() {
      if (!server) throw new Error(`the ${label} app is not running (read app.server inside a hook or a test)`);
      return server;
    },
    get smtp() {
      if (!smtp) throw new Error(`the ${label} app captures no mail (pass mail: true, and read app.smtp inside a hook or a test)`);
      return smtp;
    },
    get rp() {
      if (!rp) throw new Error(`the ${label} app has no relying party (pass relyingParty, and read app.rp inside a hook or a test)`);
      return rp;
    },
    start,
    toolEnv() {
      return {
        MONGODB_URI: scope.mongodbUri,
        // The tools announce each change over the server's Redis, so the server drops its cached copy.
        ...redisEnvOf(scope),
        IDP_REDIS_KEY_PREFIX: scope.redisKeyPrefix,
        ISSUER: this.server.url,
      };
    },
  };
}

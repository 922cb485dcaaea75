import { randomBytes } from 'node:crypto';
import { dropIsolation, isolation } from './backends.ts';
import { newAccount } from './relying-party.ts';
import { type RunningApp, startTestApp } from './test-app.ts';
import { expectPage, type FollowResult, type Page, type UserAgent } from './user-agent.ts';

/** Where the upstream lives: its own loopback host, so its cookies never mix with the app's (127.0.0.1). */
export const UPSTREAM_HOST = '127.0.0.2';

export interface UpstreamPerson {
  username: string;
  email: string;
  password: string;
  /** The upstream's own id of the person: the `sub` it asserts to us. */
  id: string;
}

export interface UpstreamIdp {
  /** The second instance of this provider, with its own users, clients, Redis prefix and database. */
  app: RunningApp;
  issuer: string;
  id: string;
  /** The IDP_UPSTREAMS entry that points the app under test at it. */
  entry(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** The environment the app under test needs for it: IDP_UPSTREAMS, the secret's variable, the outbound allowance. */
  env(overrides?: Record<string, unknown>): Record<string, string>;
  /** A person with an account at the upstream (verified email unless told otherwise). */
  createPerson(label?: string, options?: { verified?: boolean; email?: string; username?: string }): Promise<UpstreamPerson>;
  close(): Promise<void>;
}

/**
 * A real OpenID provider as the upstream: this very server, started a second time on 127.0.0.2,
 * with the app under test (on `downstreamHost`:`downstreamPort`) registered as its confidential client whose
 * one redirect URI is the app's `<ISSUER>/upstream/<id>/callback`.
 */
export async function startUpstreamIdp({
  downstreamPort,
  downstreamHost = '127.0.0.1',
  id = 'upstream-idp',
  name = 'Upstream ID',
}: {
  downstreamPort: number;
  /** The host in the app under test's issuer (`localhost` where it offers passkeys). */
  downstreamHost?: string;
  id?: string;
  name?: string | Record<string, string>;
}): Promise<UpstreamIdp> {
  const scope = isolation(`upstream-${id}`);
  const clientId = 'downstream-app';
  const clientSecret = randomBytes(24).toString('base64url');
  const redirectUri = `http://${downstreamHost}:${downstreamPort}/upstream/${id}/callback`;
  const app = await startTestApp({
    host: UPSTREAM_HOST,
    backends: scope,
    clients: () => [
      {
        client_id: clientId,
        client_secret: clientSecret,
        client_name: 'The app under test',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
  });
  const secretVariable = `UPSTREAM_${id.replace(/-/g, '_').toUpperCase()}_SECRET`;
  const entry = (overrides: Record<string, unknown> = {}) => ({
    id,
    type: 'oidc',
    name,
    issuer: app.url,
    clientId,
    clientSecretEnv: secretVariable,
    trustEmail: true,
    ...overrides,
  });
  return {
    app,
    issuer: app.url,
    id,
    entry,
    env: (overrides = {}) => ({
      IDP_UPSTREAMS: JSON.stringify([entry(overrides)]),
      [secretVariable]: clientSecret,
      IDP_OUTBOUND_PRIVATE_HOSTS: new URL(app.url).host,
    }),
    async createPerson(label = 'upstream', { verified = true, email, username } = {}) {
      const person = { ...newAccount(label), ...(email ? { email } : {}), ...(username ? { username } : {}) };
      const result = await app.users.userService.register({ ...person, confirmPassword: person.password });
      if (!result.ok) throw new Error(`cannot create the upstream person: ${JSON.stringify(result.errors ?? result)}`);
      if (verified) await app.stores.users.markEmailVerified(result.user.id, result.user.email);
      return { ...person, id: result.user.id };
    },
    async close() {
      await app.close();
      await dropIsolation(scope);
    },
  };
}

function isOn(page: Page, origin: string): boolean {
  return page.url.startsWith(origin);
}

/**
 * The browser at the upstream after "Continue with ...": signs in there when asked, allows the app
 * there when asked, and returns what the app under test answered once the browser came back.
 */
export async function throughUpstream(
  agent: UserAgent,
  left: FollowResult,
  upstream: { issuer: string },
  person: { login: string; password: string },
  stopAt?: string,
): Promise<FollowResult> {
  let result = left;
  for (let step = 0; step < 3 && result.page && isOn(result.page, upstream.issuer); step += 1) {
    const page = expectPage(result);
    if (page.$('form[action$="/login"] input[name=password]').length > 0) {
      result = await agent.submit(page, 'form[action$="/login"]', person, stopAt);
    } else if (page.$('form[action$="/confirm"]').length > 0) {
      result = await agent.submit(page, 'form[action$="/confirm"]', {}, stopAt);
    } else {
      throw new Error(`unexpected upstream page ${page.status} ${page.url}: ${page.$('main').text().trim().slice(0, 300)}`);
    }
  }
  return result;
}

/** "Continue with <name>" on a sign-in or registration page: the form post that leaves for the upstream. */
export function continueWith(agent: UserAgent, page: Page, upstreamId: string, stopAt?: string): Promise<FollowResult> {
  return agent.submit(page, 'form[action$="/upstream"]', { upstream: upstreamId }, stopAt);
}

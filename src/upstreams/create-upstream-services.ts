import type { Logger } from 'pino';
import type { SecurityEvents } from '../audit/security-events.ts';
import type { Config } from '../config/schema.ts';
import type { Upstream } from '../config/upstreams-schema.ts';
import { createOutboundFetch } from '../http/outbound-fetch.ts';
import { localized } from '../i18n/scopes.ts';
import { LOCALES, type Locale } from '../i18n/translate.ts';
import type { RateLimit } from '../rate-limit.ts';
import type { Stores } from '../storage/ports.ts';
import { createFederatedAccounts } from './federated-accounts.ts';
import { createSignInAttempts } from './sign-in-attempts.ts';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.ts';
import { createUpstreamLogins } from './upstream-logins.ts';

/** What a "Continue with ..." button shows. */
export interface UpstreamButton {
  id: string;
  name: string;
  icon?: string | undefined;
  /** Shown in a badge when there is no icon. */
  initial: string;
}

export interface UpstreamServicesDeps {
  config: Config;
  stores: Pick<Stores, 'users' | 'tokens'>;
  /** The registration form's limit per address, which accounts made through upstreams count against too. */
  registrations: RateLimit;
  /**
   * Trips to an upstream per address: each stores an attempt, as each authorization request stores
   * an interaction, so they share that budget (IDP_AUTH_MAX_PER_IP).
   */
  starts: RateLimit;
  events: SecurityEvents;
  logger: Logger;
}

/** Everything about signing in through other identity providers, wired once (by src/assemble.ts). */
export function createUpstreamServices({ config, stores, registrations, starts, events, logger }: UpstreamServicesDeps) {
  const log = logger.child({ module: 'upstreams' });
  const fetch = createOutboundFetch({ allowedPrivateHosts: config.outboundPrivateHosts });
  const clients = new Map<string, UpstreamClient>(config.upstreams.map((upstream) => [upstream.id, createUpstreamClient(upstream, fetch)]));
  const buttons = Object.fromEntries(
    LOCALES.map((locale) => [locale, config.upstreams.map((upstream) => button(upstream, locale))]),
  ) as Record<Locale, UpstreamButton[]>;
  // A token of a sign-in lives at most as long as the session or a refresh token, whichever is longer.
  const loginTtl = Math.max(config.ttl.session, config.ttl.refreshToken) + config.clockTolerance;
  return {
    clients,
    starts,
    /** The buttons in each language, for the sign-in and registration pages. */
    buttons,
    attempts: createSignInAttempts(stores.tokens),
    accounts: createFederatedAccounts({ users: stores.users, registrations, events, logger: log }),
    logins: createUpstreamLogins(stores.tokens, loginTtl),
    /** The exact redirect URI to register at the upstream. */
    redirectUri: (id: string) => new URL(`/upstream/${id}/callback`, config.issuer).toString(),
    /** An upstream's name in a language, or its id when it is no longer configured. */
    nameOf: (id: string, locale: Locale) => {
      const upstream = clients.get(id)?.settings;
      return upstream ? (localized(upstream.name, locale) ?? id) : id;
    },
    logger: log,
  };
}

export type UpstreamServices = ReturnType<typeof createUpstreamServices>;

function button(upstream: Upstream, locale: Locale): UpstreamButton {
  const name = localized(upstream.name, locale) ?? upstream.id;
  return { id: upstream.id, name, icon: upstream.icon, initial: [...name][0]?.toUpperCase() ?? '?' };
}

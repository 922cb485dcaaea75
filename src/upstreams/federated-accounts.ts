import type { Logger } from 'pino';
import { z } from 'zod';
import type { SecurityEvents } from '../audit/security-events.ts';
import { type Message, message } from '../i18n/translate.ts';
import type { RateLimit } from '../rate-limit.ts';
import {
  DuplicateLinkError,
  DuplicateUserError,
  type RemoveLinkResult,
  type UpstreamLink,
  type UserRecord,
  type UserRepository,
} from '../storage/ports.ts';
import { normalizeEmail, usernameKey } from '../users/normalize.ts';
import type { FieldErrors } from '../users/registration-form.ts';
import { USERNAME_PATTERN } from '../users/registration-form.ts';
import { TAKEN_MESSAGES } from '../users/user-service.ts';
import type { UpstreamIdentity } from './identity.ts';

/** What an upstream sign-in leads to. */
export type Resolution =
  /** The identity is linked: this is the person's account. */
  | { kind: 'linked'; user: UserRecord }
  /**
   * Not linked, but an account has the same email. It is never linked on the email alone: the person
   * must sign in to that account first (whatever the upstream says about the address).
   */
  | { kind: 'email_taken' }
  /** Nobody here yet: a new account may be made. */
  | { kind: 'new' };

export type NewAccountField = 'username' | 'email';
export type CreateResult =
  | { ok: true; user: UserRecord }
  | { ok: false; errors: FieldErrors<NewAccountField> }
  /** Too many accounts from the address this window (the registration limit, shared with the form). */
  | { ok: false; errors?: undefined; retryAfterSeconds: number };

export type LinkResult = { ok: true; link: UpstreamLink } | { ok: false; reason: 'taken' };

export interface FederatedAccounts {
  resolve(identity: UpstreamIdentity): Promise<Resolution>;
  /** The username to offer for a new account, and whether it is still free. */
  proposal(identity: UpstreamIdentity): Promise<{ username: string; free: boolean }>;
  /**
   * Makes an account for the identity, with no password, and links it. Its email is the upstream's
   * (verified only as far as the identity says) or, when the upstream gave none, the one typed.
   */
  create(identity: UpstreamIdentity, form: { username: string; email?: string }, ip: string): Promise<CreateResult>;
  /** Links the identity to an account the person has just proved is theirs. */
  link(user: UserRecord, identity: UpstreamIdentity): Promise<LinkResult>;
  /** Removes a link, unless it is the last way in of an account without a password. */
  unlink(userId: string, link: Pick<UpstreamLink, 'issuer' | 'subject'>): Promise<RemoveLinkResult>;
  linksOf(userId: string): Promise<UpstreamLink[]>;
}

export interface FederatedAccountsDeps {
  users: UserRepository;
  /** The registration form's own limit per address: an account made through an upstream counts the same. */
  registrations: RateLimit;
  /** Accounts made, links made and removed are security events of the account. */
  events: SecurityEvents;
  logger: Logger;
}

function linkOf(identity: UpstreamIdentity): Omit<UpstreamLink, 'linkedAt'> {
  const label = identity.email ?? identity.username;
  return { issuer: identity.issuer, subject: identity.subject, upstream: identity.upstream, ...(label ? { label } : {}) };
}

export function createFederatedAccounts({ users, registrations, events, logger }: FederatedAccountsDeps): FederatedAccounts {
  return {
    async resolve(identity) {
      const linked = await users.findByLink(identity.issuer, identity.subject);
      if (linked) return { kind: 'linked', user: linked };
      if (identity.email && (await users.findByEmail(identity.email))) return { kind: 'email_taken' };
      return { kind: 'new' };
    },

    async proposal(identity) {
      const username = identity.username ?? '';
      const free = username !== '' && !(await users.findByUsernameKey(usernameKey(username)));
      return { username, free };
    },

    async create(identity, form, ip) {
      const errors: FieldErrors<NewAccountField> = {};
      const username = form.username.trim();
      if (username === '') errors.username = message('validation.usernameMissing');
      else if (!USERNAME_PATTERN.test(username)) errors.username = message('validation.usernameFormat');
      const email = identity.email ?? normalizeEmail(form.email ?? '');
      const emailError = emailProblem(email);
      if (emailError) errors.email = emailError;
      if (Object.keys(errors).length > 0) return { ok: false, errors };

      const slot = await registrations.take(ip);
      if (!slot.ok) {
        await events.record('registration.throttled', { details: { retryAfter: slot.retryAfterSeconds, upstream: identity.upstream } });
        return { ok: false, retryAfterSeconds: slot.retryAfterSeconds };
      }
      let user: UserRecord;
      try {
        user = await users.create({
          username,
          usernameKey: usernameKey(username),
          email,
          emailVerified: email === identity.email && identity.emailVerified,
          ...(identity.name ? { name: identity.name } : {}),
        });
      } catch (error) {
        if (!(error instanceof DuplicateUserError)) throw error;
        for (const field of error.fields) errors[field] = TAKEN_MESSAGES[field];
        if (Object.keys(errors).length === 0) errors.username = TAKEN_MESSAGES.username;
        return { ok: false, errors };
      }
      try {
        await users.addLink(user.id, linkOf(identity));
      } catch (error) {
        // Linked by a request that ran at the same time: that one made or found the account.
        await users.delete(user.id);
        throw error;
      }
      await events.record('account.registered', { accountId: user.id, details: { upstream: identity.upstream } });
      return { ok: true, user };
    },

    async link(user, identity) {
      try {
        // The caller records the change and tells the owner (factorChanges): a new way in.
        const link = await users.addLink(user.id, linkOf(identity));
        return { ok: true, link };
      } catch (error) {
        if (!(error instanceof DuplicateLinkError)) throw error;
        logger.warn({ event: 'account.upstream_link_refused', userId: user.id, upstream: identity.upstream }, 'identity linked elsewhere');
        return { ok: false, reason: 'taken' };
      }
    },

    async unlink(userId, link) {
      const result = await users.removeLink(userId, link, { keepOneWayIn: true });
      if (result !== 'removed')
        logger.warn({ event: 'account.upstream_unlink_refused', userId, issuer: link.issuer, result }, 'upstream sign-in not unlinked');
      return result;
    },

    linksOf: (userId) => users.linksOf(userId),
  };
}

function emailProblem(email: string): Message | undefined {
  if (email === '') return message('validation.emailMissing');
  if (email.length > 254 || !z.email().safeParse(email).success) return message('validation.emailFormat');
  return undefined;
}

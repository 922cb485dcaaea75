import type { Logger } from 'pino';
import type { SecurityEvents } from '../audit/security-events.ts';
import type { Config } from '../config/schema.ts';
import { type Locale, type Message, translate } from '../i18n/translate.ts';
import type { Mailer } from '../mail/mailer.ts';
import { createRateLimit } from '../rate-limit.ts';
import type { AttemptCounter, OneTimeTokenStore, UserRecord, UserRepository } from '../storage/ports.ts';
import type { CredentialChanges } from './credentials-changed.ts';
import { normalizeEmail } from './normalize.ts';
import { hashOneTimeToken, newOneTimeToken } from './one-time-token.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { PasswordPolicy } from './password-policy.ts';
import type { UserSessions } from './sessions.ts';

const PURPOSE = 'reset-password';
/** Only a path under /interaction/ may be carried back after a reset: never an open redirect. */
const RETURN_TO = /^\/interaction\/[A-Za-z0-9_-]{1,64}$/;

export type RequestResetResult = { ok: true } | { ok: false; reason: 'ip_limited'; retryAfterSeconds: number };

export type ResetResult =
  | { ok: true; returnTo: string | undefined; sessionsEnded: number; grantsRevoked: number }
  | { ok: false; reason: 'invalid_link' }
  | { ok: false; reason: 'password'; field: 'password' | 'confirmPassword'; message: Message };

export interface PasswordReset {
  /**
   * Sends a reset link when the address belongs to an active account. The answer is the same
   * either way, and the email is sent in the background so the time taken is the same too.
   */
  request(email: string, ip: string, options?: { returnTo?: string; locale?: Locale }): Promise<RequestResetResult>;
  /**
   * Issues a reset link for the user (also used by the users tool, for another channel). Only a
   * link `emailed` to the account's address proves the address when used (the email is verified).
   */
  linkFor(user: UserRecord, options?: { returnTo?: string | undefined; emailed?: boolean }): Promise<string>;
  /** The account a link belongs to, without using the link up (to show the form). */
  check(token: string): Promise<UserRecord | undefined>;
  /** Sets the new password (policy applies), uses up the link, ends every session and revokes every app. */
  reset(token: string, password: string, confirmPassword: string): Promise<ResetResult>;
}

export interface PasswordResetDeps {
  users: UserRepository;
  tokens: OneTimeTokenStore;
  attempts: AttemptCounter;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  mailer: Mailer;
  sessions: Pick<UserSessions, 'cutOff'>;
  /** A new password voids every sign-in given before it (and interactions staged with the old one). */
  credentials: Pick<CredentialChanges, 'mark'>;
  issuer: string;
  settings: Config['passwordReset'];
  /** Language of emails when the request does not say (e.g. links sent by the users tool). */
  defaultLocale: Locale;
  events: SecurityEvents;
  logger: Logger;
}

/**
 * Forgotten-password flow (OWASP Forgot Password Cheat Sheet; ASVS 5.0 6.4.3): single-use links of
 * 256 random bits, stored only as a hash, short-lived; rate-limited per address and per IP; the link
 * is built from the configured issuer; a reset ends every session and does not sign in by itself.
 */
export function createPasswordReset(deps: PasswordResetDeps): PasswordReset {
  const { users, tokens, attempts, hasher, policy, mailer, issuer, settings, defaultLocale, events, logger } = deps;
  const byIp = createRateLimit(attempts, 'reset-ip', { max: settings.maxPerIp, windowSeconds: settings.windowSeconds });
  const byEmail = createRateLimit(attempts, 'reset-email', { max: settings.maxPerEmail, windowSeconds: settings.windowSeconds });

  const findUser = async (token: string) => {
    if (token.length === 0 || token.length > 100) return undefined;
    const payload = await tokens.find(PURPOSE, hashOneTimeToken(token));
    const user = payload?.userId ? await users.findById(payload.userId) : undefined;
    return user?.active ? { user, payload } : undefined;
  };

  const linkFor = async (user: UserRecord, { returnTo, emailed = false }: { returnTo?: string | undefined; emailed?: boolean } = {}) => {
    const { token, hash } = newOneTimeToken();
    const payload: Record<string, string> = { userId: user.id };
    if (returnTo && RETURN_TO.test(returnTo)) payload.returnTo = returnTo;
    if (emailed) payload.email = user.email;
    await tokens.save(PURPOSE, hash, payload, settings.ttlSeconds);
    const link = new URL('/reset-password', issuer);
    link.searchParams.set('token', token);
    return link.toString();
  };

  /**
   * An account whose email was never verified may have been made by someone who only claimed the
   * address (account pre-hijacking: through an upstream, or the registration form while verification
   * is not required), who then set up ways in before the owner came. Whoever resets its password
   * holds the mailbox (or, with a link an administrator printed, was checked by them), so every way
   * in set up before goes: linked sign-ins, passkeys, the authenticator app and its recovery codes.
   * @see https://www.usenix.org/conference/usenixsecurity22/presentation/sudhodanan
   */
  const removeUnprovenWaysIn = async (user: UserRecord) => {
    const links = await users.linksOf(user.id);
    for (const link of links) await users.removeLink(user.id, link);
    if (links.length > 0) await events.record('account.upstream_links_removed', { accountId: user.id, details: { count: links.length } });
    const factors = await users.resetFactors(user.id);
    if (factors.totp || factors.passkeys > 0 || factors.recoveryCodes > 0)
      await events.record('account.unproven_factors_removed', { accountId: user.id, details: factors });
    return { linksRemoved: links.length, factorsRemoved: factors };
  };

  return {
    linkFor,
    async request(rawEmail, ip, { returnTo, locale = defaultLocale } = {}) {
      const fromIp = await byIp.take(ip);
      if (!fromIp.ok) {
        await events.record('password_reset.throttled', { details: { scope: 'ip' } });
        return { ok: false, reason: 'ip_limited', retryAfterSeconds: fromIp.retryAfterSeconds };
      }
      const email = normalizeEmail(rawEmail);
      if (!(await byEmail.take(email)).ok) {
        // Said to no one: the answer stays the same, so it reveals nothing about the address.
        await events.record('password_reset.throttled', { details: { scope: 'email' } });
        return { ok: true };
      }
      const user = email.length <= 254 ? await users.findByEmail(email) : undefined;
      // Kept in the account's activity when the address is an account's: the person sees the request.
      // Not awaited, like the email: the answer takes as long for an unknown address.
      void events.record('password_reset.requested', { accountId: user?.id, details: { known: Boolean(user?.active) } });
      if (!user?.active) return { ok: true };

      const link = await linkFor(user, { returnTo, emailed: true });
      void mailer
        .send({
          to: user.email,
          subject: translate(locale, 'email.reset.subject'),
          template: 'reset-password',
          locale,
          locals: { username: user.username, link, minutes: Math.round(settings.ttlSeconds / 60) },
        })
        .catch((error: unknown) => logger.error({ event: 'mail.failed', err: error, userId: user.id }, 'reset email not sent'));
      return { ok: true };
    },

    async check(token) {
      return (await findUser(token))?.user;
    },

    async reset(token, rawPassword, rawConfirm) {
      const found = await findUser(token);
      if (!found) return { ok: false, reason: 'invalid_link' };
      const { user, payload } = found;
      const checked = policy.checkNew(rawPassword, { context: user, confirm: rawConfirm, missing: 'validation.newPasswordMissing' });
      if (!checked.ok) return { ok: false, reason: 'password', field: checked.field, message: checked.message };
      // Redeem only now, so a policy error does not use the link up; GETDEL decides a race.
      if (!(await tokens.consume(PURPOSE, hashOneTimeToken(token)))) return { ok: false, reason: 'invalid_link' };
      await users.updatePasswordHash(user.id, await hasher.hash(checked.password));
      await deps.credentials.mark(user.id);
      const cut = await deps.sessions.cutOff(user.id);
      const removed = user.emailVerified ? undefined : await removeUnprovenWaysIn(user);
      // A link that went to the address proves it, as a verification link would (the address it went to only).
      if (!user.emailVerified && payload?.email && (await users.markEmailVerified(user.id, payload.email)))
        await events.record('account.email_verified', { accountId: user.id, details: { by: 'password_reset' } });
      await events.record('password_reset.completed', {
        accountId: user.id,
        details: { ...cut, linksRemoved: removed?.linksRemoved ?? 0 },
      });
      return { ok: true, returnTo: payload?.returnTo, ...cut };
    },
  };
}

import type { Logger } from 'pino';
import type { SecurityEvents } from '../audit/security-events.ts';
import type { Config } from '../config/schema.ts';
import { type Locale, translate } from '../i18n/translate.ts';
import type { Mailer } from '../mail/mailer.ts';
import { createRateLimit } from '../rate-limit.ts';
import type { AttemptCounter, OneTimeTokenStore, UserRecord, UserRepository } from '../storage/ports.ts';
import { hashOneTimeToken, newOneTimeToken } from './one-time-token.ts';

const PURPOSE = 'verify-email';

export interface EmailVerification {
  /**
   * Sends a single-use link proving the person controls the address, unless the address (or the
   * requesting IP) has had its share this window: then nothing is sent and the reason is logged,
   * so nobody can turn this service into a mail cannon at someone's inbox. Resolves to whether a
   * link was sent. `returnTo` (a sign-in page, /interaction/<uid>) is kept with the link, so the
   * page after verifying can lead back to the sign-in it came from.
   */
  send(
    user: UserRecord,
    options?: { locale?: Locale | undefined; ip?: string | undefined; returnTo?: string | undefined },
  ): Promise<boolean>;
  /**
   * Redeems a link: whether the address is now verified, and the sign-in it was sent from.
   * `signedInAs` is the account this browser is signed in to, if any: an unverified account with
   * sign-ins through other providers is verified only from there (`sign_in_first`, the link kept).
   */
  verify(token: string, options?: { signedInAs?: string | undefined }): Promise<VerifyResult>;
}

export type VerifyResult =
  | { verified: true; returnTo?: string | undefined }
  | { verified: false; reason: 'invalid_link' | 'sign_in_first' };

/** The only place a verification link may lead back to: one of our sign-in pages. */
const RETURN_TO = /^\/interaction\/[A-Za-z0-9_-]{1,64}$/;

export interface EmailVerificationDeps {
  users: UserRepository;
  tokens: OneTimeTokenStore;
  attempts: AttemptCounter;
  limits: Config['verificationEmail'];
  mailer: Mailer;
  /** Links are built from the configured issuer, never from the request's Host header. */
  issuer: string;
  ttlSeconds: number;
  /** Language of the email when the caller does not say. */
  defaultLocale: Locale;
  events: SecurityEvents;
  logger: Logger;
}

export function createEmailVerification(deps: EmailVerificationDeps): EmailVerification {
  const { users, tokens, attempts, limits, mailer, issuer, ttlSeconds, defaultLocale, events, logger } = deps;
  const toRecipient = createRateLimit(attempts, 'verify-mail-to', { max: limits.maxPerRecipient, windowSeconds: limits.windowSeconds });
  const fromIp = createRateLimit(attempts, 'verify-mail-from', { max: limits.maxPerIp, windowSeconds: limits.windowSeconds });
  /**
   * An unverified account with sign-ins through other providers may have been made by someone who
   * only claimed the address there (account pre-hijacking): the mailbox's owner clicking the link
   * would otherwise make that stranger's way in an account of a verified address. Such an account
   * is verified only by a browser signed in to it, which the stranger's is and the owner's is not;
   * the owner takes the address over with a password reset instead, which removes those ways in.
   * @see https://www.usenix.org/conference/usenixsecurity22/presentation/sudhodanan (pre-hijacking)
   */
  const madeOnAClaim = async (userId: string): Promise<boolean> => {
    const user = await users.findById(userId);
    return user !== undefined && !user.emailVerified && (await users.linksOf(userId)).length > 0;
  };

  return {
    async send(user, { locale = defaultLocale, ip, returnTo } = {}) {
      const limited = ip && !(await fromIp.take(ip)).ok ? 'ip' : !(await toRecipient.take(user.email)).ok ? 'recipient' : undefined;
      if (limited) {
        logger.warn(
          { event: 'mail.throttled', template: 'verify-email', scope: limited, userId: user.id, ip },
          'verification email not sent: limit reached',
        );
        return false;
      }
      const { token, hash } = newOneTimeToken();
      const payload: Record<string, string> = { userId: user.id, email: user.email };
      if (returnTo && RETURN_TO.test(returnTo)) payload.returnTo = returnTo;
      await tokens.save(PURPOSE, hash, payload, ttlSeconds);
      const link = new URL('/verify-email', issuer);
      link.searchParams.set('token', token);
      await mailer.send({
        to: user.email,
        subject: translate(locale, 'email.verify.subject'),
        template: 'verify-email',
        locale,
        locals: { username: user.username, link: link.toString(), hours: Math.round(ttlSeconds / 3600) },
      });
      return true;
    },
    async verify(token, { signedInAs } = {}) {
      if (token.length > 100) return { verified: false, reason: 'invalid_link' };
      const hash = hashOneTimeToken(token);
      const pending = await tokens.find(PURPOSE, hash);
      if (!pending?.userId) return { verified: false, reason: 'invalid_link' };
      if (pending.userId !== signedInAs && (await madeOnAClaim(pending.userId))) {
        await events.record('account.email_verification_refused', { accountId: pending.userId, details: { reason: 'sign_in_first' } });
        return { verified: false, reason: 'sign_in_first' };
      }
      const payload = await tokens.consume(PURPOSE, hash);
      if (!payload?.userId || !payload.email) return { verified: false, reason: 'invalid_link' };
      // The address may have changed since the link was sent; only the address it was sent to counts.
      const verified = await users.markEmailVerified(payload.userId, payload.email);
      if (!verified) return { verified: false, reason: 'invalid_link' };
      await events.record('account.email_verified', { accountId: payload.userId });
      return { verified: true, returnTo: payload.returnTo };
    },
  };
}

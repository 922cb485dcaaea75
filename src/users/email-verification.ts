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
  /** Redeems a link: whether the address is now verified, and the sign-in it was sent from. */
  verify(token: string): Promise<{ verified: boolean; returnTo?: string | undefined }>;
}

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
    async verify(token) {
      if (token.length > 100) return { verified: false };
      const payload = await tokens.consume(PURPOSE, hashOneTimeToken(token));
      if (!payload?.userId || !payload.email) return { verified: false };
      // The address may have changed since the link was sent; only the address it was sent to counts.
      const verified = await users.markEmailVerified(payload.userId, payload.email);
      if (verified) await events.record('account.email_verified', { accountId: payload.userId });
      return { verified, returnTo: payload.returnTo };
    },
  };
}

import type { Logger } from 'pino';
import { deviceOf } from '../audit/device.ts';
import { type Locale, type MessageKey, translate } from '../i18n/translate.ts';
import { currentRequest } from '../logging/request-scope.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { UserRecord } from '../storage/ports.ts';

/** A change to the ways into an account that its owner is told about. */
export type FactorChange =
  | 'totp_enabled'
  | 'totp_disabled'
  | 'recovery_codes_regenerated'
  | 'passkey_added'
  | 'passkey_removed'
  | 'upstream_linked'
  | 'upstream_unlinked';

const FACTOR_LINES: Record<FactorChange, MessageKey> = {
  totp_enabled: 'email.factor.totp_enabled',
  totp_disabled: 'email.factor.totp_disabled',
  recovery_codes_regenerated: 'email.factor.recovery_codes_regenerated',
  passkey_added: 'email.factor.passkey_added',
  passkey_removed: 'email.factor.passkey_removed',
  upstream_linked: 'email.factor.upstream_linked',
  upstream_unlinked: 'email.factor.upstream_unlinked',
};

export interface AccountNotices {
  /** Whether emails really leave (SMTP_URL); without it they only reach the log (development). */
  readonly canEmail: boolean;
  /** Tells the owner a factor was added or removed (in the background: the change stands if the mail fails). */
  factorChanged(user: UserRecord, change: FactorChange, options: { locale?: Locale | undefined; name?: string | undefined }): void;
  /** Tells the owner wrong second-step codes keep coming after their password (in the background). */
  codesFailing(user: UserRecord, options: { count: number; blocked: boolean; locale?: Locale | undefined }): void;
  /** Sends the owner the password reset link of an administrator's reset-mfa; rejects when it cannot be sent. */
  factorsReset(user: UserRecord, options: { link: string; minutes: number }): Promise<void>;
}

export interface AccountNoticesDeps {
  mailer: Mailer;
  /** Links are built from the configured issuer, never from a request's Host. */
  issuer: string;
  /** The language of a notice when the cause has none (an administrator's tool). */
  defaultLocale: Locale;
  logger: Logger;
}

/**
 * Security notices to the account's own address, in the spirit of what GitHub, Google and Keycloak
 * send: every factor added or removed, a run of wrong codes after the right password, an
 * administrator's reset (ASVS 5.0 6.3.7, 7.4.3; NIST SP 800-63B-4 §4.6 on notifying the subscriber
 * of authenticator changes). Each says when and from which device and address, so the owner can tell
 * whether it was them, and what to do when it was not. They go to the address on the account whether
 * or not it is verified: a notice asks nothing and grants nothing.
 */
export function createAccountNotices({ mailer, issuer, defaultLocale, logger }: AccountNoticesDeps): AccountNotices {
  const accountLink = new URL('/account', issuer).toString();
  /** When and where, from the request being served (an administrator's tool has none), in the notice's language. */
  const circumstances = (locale: Locale) => {
    const request = currentRequest();
    const device = deviceOf(request?.userAgent);
    const named = device ? [device.browser, device.os].filter(Boolean).join(', ') || device.raw : undefined;
    return {
      time: new Date().toISOString().replace('T', ' ').slice(0, 16),
      origin: request
        ? translate(locale, 'email.notice.from', { device: named ?? translate(locale, 'email.notice.unknownDevice'), ip: request.ip })
        : translate(locale, 'email.notice.byAdmin'),
      accountLink,
    };
  };
  const inBackground = (template: string, userId: string, sending: Promise<void>) => {
    sending.catch((error: unknown) => logger.error({ event: 'mail.failed', template, err: error, userId }, 'security notice not sent'));
  };

  return {
    canEmail: mailer.kind === 'smtp',
    factorChanged(user, change, { locale = defaultLocale, name = '' }) {
      const sending = mailer.send({
        to: user.email,
        subject: translate(locale, 'email.factor.subject'),
        template: 'factor-changed',
        locale,
        locals: { username: user.username, what: translate(locale, FACTOR_LINES[change], { name }), ...circumstances(locale) },
      });
      inBackground('factor-changed', user.id, sending);
    },
    codesFailing(user, { count, blocked, locale = defaultLocale }) {
      const sending = mailer.send({
        to: user.email,
        subject: translate(locale, blocked ? 'email.codes.blockedSubject' : 'email.codes.subject'),
        template: 'codes-failing',
        locale,
        locals: { username: user.username, count, blocked, ...circumstances(locale) },
      });
      inBackground('codes-failing', user.id, sending);
    },
    factorsReset(user, { link, minutes }) {
      return mailer.send({
        to: user.email,
        subject: translate(defaultLocale, 'email.mfaReset.subject'),
        template: 'mfa-reset',
        locale: defaultLocale,
        locals: { username: user.username, link, minutes },
      });
    },
  };
}

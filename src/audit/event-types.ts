import type { Locale } from '../i18n/locales.ts';

/** What the account page and the users tool call an event, per language; `warn`: logged at warn (a refusal worth an operator's eye). */
type EventType = Record<Locale, string> & { warn?: true };

/**
 * Every security event, and what the account page calls it. Adding a type is one line here; then
 * `securityEvents.record('<type>', { accountId })` logs it, counts it, and keeps it in the
 * account's recent activity. The type is also the log line's `event` field.
 */
// biome-ignore format: one line per event type
export const SECURITY_EVENT_TYPES = {
  'login.succeeded': { en: 'Signed in', de: 'Angemeldet' },
  'login.failed': { en: 'Sign-in failed', de: 'Anmeldung fehlgeschlagen', warn: true },
  'login.throttled': { en: 'Sign-in paused after repeated failures', de: 'Anmeldung nach wiederholten Fehlern pausiert', warn: true },
  'login.second_factor_failed': { en: 'Second step of a sign-in failed', de: 'Zweiter Schritt einer Anmeldung fehlgeschlagen', warn: true },
  'mfa.recovery_code_used': { en: 'Recovery code used', de: 'Wiederherstellungscode verwendet', warn: true },
  'mfa.totp_enabled': { en: 'Authenticator app turned on', de: 'Authenticator-App eingeschaltet' },
  'mfa.totp_disabled': { en: 'Authenticator app turned off', de: 'Authenticator-App ausgeschaltet', warn: true },
  'mfa.recovery_codes_regenerated': { en: 'New recovery codes made', de: 'Neue Wiederherstellungscodes erstellt' },
  'mfa.totp_blocked': { en: 'Authenticator app blocked after too many wrong codes', de: 'Authenticator-App nach zu vielen falschen Codes gesperrt', warn: true },
  'passkey.added': { en: 'Passkey added', de: 'Passkey hinzugefügt' },
  'passkey.removed': { en: 'Passkey removed', de: 'Passkey entfernt', warn: true },
  'account.registered': { en: 'Account created', de: 'Konto erstellt' },
  'registration.throttled': { en: 'Registration refused: too many from this network', de: 'Registrierung abgelehnt: zu viele aus diesem Netz', warn: true },
  'account.profile_updated': { en: 'Profile changed', de: 'Profil geändert' },
  'account.password_changed': { en: 'Password changed', de: 'Passwort geändert' },
  'account.email_verified': { en: 'Email address verified', de: 'E-Mail-Adresse bestätigt' },
  'account.email_verification_refused': {
    en: 'Address confirmation refused: the browser was not signed in to the account',
    de: 'Bestätigung der Adresse abgelehnt: Der Browser war nicht beim Konto angemeldet',
    warn: true,
  },
  'password_reset.requested': { en: 'Password reset requested', de: 'Zurücksetzen des Passworts angefordert' },
  'password_reset.throttled': { en: 'Password reset refused: too many requests', de: 'Zurücksetzen abgelehnt: zu viele Anfragen', warn: true },
  'password_reset.completed': { en: 'Password reset with an emailed link', de: 'Passwort per E-Mail-Link zurückgesetzt' },
  'session.ended': { en: 'Signed out', de: 'Abgemeldet' },
  'account.signed_out_everywhere': { en: 'Signed out everywhere', de: 'Überall abgemeldet' },
  'account.app_revoked': { en: 'App access removed', de: 'Zugriff einer Anwendung entfernt' },
  'account.upstream_linked': { en: 'Sign-in with another provider linked', de: 'Anmeldung über einen anderen Anbieter verknüpft' },
  'account.upstream_unlinked': { en: 'Sign-in with another provider removed', de: 'Anmeldung über einen anderen Anbieter entfernt', warn: true },
  'account.unproven_factors_removed': {
    en: 'Passkeys and two-step verification set up before the address was proven removed by a password reset',
    de: 'Vor dem Nachweis der Adresse eingerichtete Passkeys und Bestätigung in zwei Schritten durch Zurücksetzen des Passworts entfernt',
    warn: true,
  },
  'account.upstream_links_removed': { en: 'Linked sign-ins removed by a password reset', de: 'Verknüpfte Anmeldungen durch Zurücksetzen des Passworts entfernt', warn: true },
  'admin.account_created': { en: 'Account created by an administrator', de: 'Konto von einem Administrator erstellt' },
  'admin.account_disabled': { en: 'Account disabled by an administrator', de: 'Konto von einem Administrator gesperrt', warn: true },
  'admin.account_enabled': { en: 'Account enabled by an administrator', de: 'Konto von einem Administrator entsperrt' },
  'admin.account_deleted': { en: 'Account deleted by an administrator', de: 'Konto von einem Administrator gelöscht', warn: true },
  'admin.password_set': { en: 'Password set by an administrator', de: 'Passwort von einem Administrator gesetzt' },
  'admin.reset_link_created': { en: 'Password reset link made by an administrator', de: 'Link zum Zurücksetzen von einem Administrator erstellt' },
  'admin.email_verified': { en: 'Email address marked verified by an administrator', de: 'E-Mail-Adresse von einem Administrator bestätigt' },
  'admin.name_set': { en: 'Name changed by an administrator', de: 'Name von einem Administrator geändert' },
  'admin.groups_changed': { en: 'Groups changed by an administrator', de: 'Gruppen von einem Administrator geändert' },
  'admin.claims_changed': { en: 'Claims changed by an administrator', de: 'Claims von einem Administrator geändert' },
  'admin.upstream_unlinked': { en: 'Linked sign-in removed by an administrator', de: 'Verknüpfte Anmeldung von einem Administrator entfernt', warn: true },
  'admin.mfa_reset': { en: 'Second factors and passkeys removed by an administrator', de: 'Zweite Faktoren und Passkeys von einem Administrator entfernt', warn: true },
  'admin.client_created': { en: 'App registered by an administrator', de: 'Anwendung von einem Administrator registriert' },
  'admin.client_updated': { en: 'App changed by an administrator', de: 'Anwendung von einem Administrator geändert' },
  'admin.client_secret_rotated': { en: 'App secret replaced by an administrator', de: 'Geheimnis einer Anwendung von einem Administrator ersetzt' },
  'admin.client_disabled': { en: 'App disabled by an administrator', de: 'Anwendung von einem Administrator deaktiviert', warn: true },
  'admin.client_enabled': { en: 'App enabled by an administrator', de: 'Anwendung von einem Administrator aktiviert' },
  'admin.client_deleted': { en: 'App deleted by an administrator', de: 'Anwendung von einem Administrator gelöscht', warn: true },
} as const satisfies Record<string, EventType>;

export type SecurityEventType = keyof typeof SECURITY_EVENT_TYPES;

export function isSecurityEventType(value: string): value is SecurityEventType {
  return Object.hasOwn(SECURITY_EVENT_TYPES, value);
}

/** What to call a stored event (its type may come from a newer release): the label, or the type itself. */
export function describeEventType(type: string, locale: Locale): string {
  return isSecurityEventType(type) ? SECURITY_EVENT_TYPES[type][locale] : type;
}

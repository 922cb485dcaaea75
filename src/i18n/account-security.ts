/**
 * The texts of the account's security: the notices emailed when its sign-in methods change or wrong
 * codes pile up, an administrator's reset, the recent sign-in that changes to sign-in methods need,
 * and the blocked authenticator app. A catalogue block of its own that en.ts and de.ts spread into
 * theirs; German must have every English key (the type says so).
 */
export const ACCOUNT_SECURITY_EN = {
  'email.notice.footer': 'We send this notice whenever the ways into your account change. You cannot turn it off.',
  'email.notice.when': 'When: {time} (UTC)',
  'email.notice.from': 'From: {device}, network address {ip}',
  'email.notice.byAdmin': 'By: an administrator of this service',
  'email.notice.unknownDevice': 'a device we cannot name',
  'email.notice.wasYou': 'If this was you, there is nothing to do.',
  'email.notice.notYou':
    'If it was not you, someone else can get into your account: change your password and check your sign-in methods on your account page, and tell the administrator of this service.',
  'email.notice.accountLink': 'Your account page:',
  'email.factor.subject': 'The ways you sign in changed',
  'email.factor.totp_enabled': 'Two-step verification with an authenticator app was turned on for your account.',
  'email.factor.totp_disabled': 'Two-step verification with an authenticator app was turned off for your account.',
  'email.factor.recovery_codes_regenerated': 'New recovery codes were made for your account; the previous ones no longer work.',
  'email.factor.passkey_added': 'A passkey, “{name}”, was added to your account.',
  'email.factor.passkey_removed': 'A passkey, “{name}”, was removed from your account.',
  'email.factor.upstream_linked': 'Signing in with {name} was linked to your account: that {name} account now signs in to yours.',
  'email.factor.upstream_unlinked': 'Signing in with {name} was removed from your account.',
  'email.codes.subject': 'Wrong codes were entered for your account',
  'email.codes.body': 'Someone gave your password, then entered {count} wrong two-step verification codes in a row.',
  'email.codes.advice': 'If this was not you, someone else knows your password: change it now on your account page.',
  'email.codes.blockedSubject': 'Your authenticator app was blocked',
  'email.codes.blocked':
    'After {count} wrong codes in a row, your authenticator app no longer signs you in. Sign in once with a recovery code or a passkey to unblock it, or ask the administrator of this service to reset your two-step verification.',
  'email.mfaReset.subject': 'Your two-step verification was reset',
  'email.mfaReset.body':
    'An administrator removed the authenticator app, recovery codes and passkeys of your account and signed you out everywhere. Your password no longer works either, so that only you can set up your account again: choose a new password with this link, then set up two-step verification again.',
  'email.mfaReset.button': 'Choose a new password',
  'email.mfaReset.expires':
    'This link works once and expires in {minutes} minutes. If it has expired, ask the administrator for a new one.',
  'email.mfaReset.notYou': 'If you did not ask for this, tell the administrator of this service.',

  'account.recentSignInHint': 'Changes here ask you to sign in again, unless you did so in the last 10 minutes.',
  'account.confirmed': 'You signed in again: you can change how you sign in for the next 10 minutes.',
  'account.twoStepBlocked':
    'Your authenticator app is blocked after too many wrong codes. Sign in once with a recovery code or a passkey to unblock it.',
  'validation.currentPasswordThrottled': 'Too many wrong passwords. Try again in {seconds} seconds.',
  'mfa.blocked':
    'Your authenticator app is blocked after too many wrong codes. Use a recovery code or a passkey, or ask the administrator of this service to reset your two-step verification.',
} as const;

export const ACCOUNT_SECURITY_DE: Record<keyof typeof ACCOUNT_SECURITY_EN, string> = {
  'email.notice.footer': 'Diese Nachricht senden wir immer, wenn sich die Zugänge zu Ihrem Konto ändern. Sie lässt sich nicht abbestellen.',
  'email.notice.when': 'Wann: {time} (UTC)',
  'email.notice.from': 'Von: {device}, Netzwerkadresse {ip}',
  'email.notice.byAdmin': 'Durch: die Administration dieses Dienstes',
  'email.notice.unknownDevice': 'ein Gerät, das wir nicht benennen können',
  'email.notice.wasYou': 'Wenn Sie das waren, ist nichts weiter zu tun.',
  'email.notice.notYou':
    'Wenn Sie es nicht waren, kann jemand anderes in Ihr Konto gelangen: Ändern Sie Ihr Passwort, prüfen Sie Ihre Anmeldemethoden auf Ihrer Kontoseite und informieren Sie die Administration dieses Dienstes.',
  'email.notice.accountLink': 'Ihre Kontoseite:',
  'email.factor.subject': 'Ihre Anmeldemethoden wurden geändert',
  'email.factor.totp_enabled': 'Die Bestätigung in zwei Schritten mit einer Authenticator-App wurde für Ihr Konto eingeschaltet.',
  'email.factor.totp_disabled': 'Die Bestätigung in zwei Schritten mit einer Authenticator-App wurde für Ihr Konto ausgeschaltet.',
  'email.factor.recovery_codes_regenerated':
    'Für Ihr Konto wurden neue Wiederherstellungscodes erzeugt; die bisherigen funktionieren nicht mehr.',
  'email.factor.passkey_added': 'Ihrem Konto wurde ein Passkey hinzugefügt: „{name}“.',
  'email.factor.passkey_removed': 'Aus Ihrem Konto wurde ein Passkey entfernt: „{name}“.',
  'email.factor.upstream_linked':
    'Die Anmeldung über {name} wurde mit Ihrem Konto verknüpft: Dieses {name}-Konto meldet sich nun bei Ihrem an.',
  'email.factor.upstream_unlinked': 'Die Anmeldung über {name} wurde aus Ihrem Konto entfernt.',
  'email.codes.subject': 'Für Ihr Konto wurden falsche Codes eingegeben',
  'email.codes.body': 'Jemand hat Ihr Passwort eingegeben und danach {count} falsche Codes für den zweiten Schritt in Folge.',
  'email.codes.advice': 'Wenn Sie das nicht waren, kennt jemand anderes Ihr Passwort: Ändern Sie es jetzt auf Ihrer Kontoseite.',
  'email.codes.blockedSubject': 'Ihre Authenticator-App wurde gesperrt',
  'email.codes.blocked':
    'Nach {count} falschen Codes in Folge meldet Ihre Authenticator-App Sie nicht mehr an. Melden Sie sich einmal mit einem Wiederherstellungscode oder einem Passkey an, um sie zu entsperren, oder bitten Sie die Administration dieses Dienstes, Ihre Bestätigung in zwei Schritten zurückzusetzen.',
  'email.mfaReset.subject': 'Ihre Bestätigung in zwei Schritten wurde zurückgesetzt',
  'email.mfaReset.body':
    'Die Administration hat die Authenticator-App, die Wiederherstellungscodes und die Passkeys Ihres Kontos entfernt und Sie überall abgemeldet. Auch Ihr Passwort funktioniert nicht mehr, damit nur Sie Ihr Konto wieder einrichten können: Wählen Sie mit diesem Link ein neues Passwort und richten Sie danach die Bestätigung in zwei Schritten neu ein.',
  'email.mfaReset.button': 'Neues Passwort wählen',
  'email.mfaReset.expires':
    'Dieser Link funktioniert einmal und läuft in {minutes} Minuten ab. Ist er abgelaufen, bitten Sie die Administration um einen neuen.',
  'email.mfaReset.notYou': 'Wenn Sie das nicht veranlasst haben, informieren Sie die Administration dieses Dienstes.',

  'account.recentSignInHint': 'Für Änderungen hier melden Sie sich erneut an, außer Sie haben das in den letzten 10 Minuten getan.',
  'account.confirmed': 'Sie haben sich erneut angemeldet: In den nächsten 10 Minuten können Sie Ihre Anmeldemethoden ändern.',
  'account.twoStepBlocked':
    'Ihre Authenticator-App ist nach zu vielen falschen Codes gesperrt. Melden Sie sich einmal mit einem Wiederherstellungscode oder einem Passkey an, um sie zu entsperren.',
  'validation.currentPasswordThrottled': 'Zu viele falsche Passwörter. Versuchen Sie es in {seconds} Sekunden erneut.',
  'mfa.blocked':
    'Ihre Authenticator-App ist nach zu vielen falschen Codes gesperrt. Verwenden Sie einen Wiederherstellungscode oder einen Passkey, oder bitten Sie die Administration dieses Dienstes, Ihre Bestätigung in zwei Schritten zurückzusetzen.',
};

import type { SecurityEventType } from '../../audit/event-types.ts';
import type { SecurityEvents } from '../../audit/security-events.ts';
import type { Locale } from '../../i18n/translate.ts';
import type { UserRecord } from '../../storage/ports.ts';
import type { AccountNotices, FactorChange } from '../account-notices.ts';
import type { CredentialChanges } from '../credentials-changed.ts';

const EVENTS: Record<FactorChange, SecurityEventType> = {
  totp_enabled: 'mfa.totp_enabled',
  totp_disabled: 'mfa.totp_disabled',
  recovery_codes_regenerated: 'mfa.recovery_codes_regenerated',
  passkey_added: 'passkey.added',
  passkey_removed: 'passkey.removed',
  upstream_linked: 'account.upstream_linked',
  upstream_unlinked: 'account.upstream_unlinked',
};

export interface FactorChangeOptions {
  locale?: Locale | undefined;
  /** A passkey's name or a linked provider's, for the event and the email. */
  name?: string | undefined;
  /** Sign-ins given before this no longer count (default now); in a sign-in, the moment its password was given. */
  since?: Date | undefined;
  /** The session where the person made the change (the account page's): it stays signed in. */
  keepSession?: string | undefined;
  /** Set up while signing in (an account required to have a factor, which had none). */
  duringSignIn?: boolean;
}

export interface FactorChanges {
  /**
   * A factor was added or removed: older sign-ins no longer count (credentialsChangedAt), the change
   * is a security event of the account, and its owner is emailed.
   */
  changed(user: UserRecord, change: FactorChange, options?: FactorChangeOptions): Promise<void>;
}

/** Every change to the ways into an account, wherever it is made (the account page, a sign-in's set-up, the passkey offer). */
export function createFactorChanges({
  credentials,
  events,
  notices,
}: {
  credentials: Pick<CredentialChanges, 'mark'>;
  events: Pick<SecurityEvents, 'record'>;
  notices: Pick<AccountNotices, 'factorChanged'>;
}): FactorChanges {
  return {
    async changed(user, change, { locale, name, since, keepSession, duringSignIn = false } = {}) {
      await credentials.mark(user.id, { since, keepSession });
      const details = { ...(name ? { name } : {}), ...(duringSignIn ? { during: 'sign-in' } : {}) };
      await events.record(EVENTS[change], { accountId: user.id, details: Object.keys(details).length > 0 ? details : undefined });
      notices.factorChanged(user, change, { locale, name });
    },
  };
}

import type { Config } from '../config/schema.ts';
import type { Locale, MessageKey, Translate } from './translate.ts';

/** Plain words for the OpenID Connect scopes; a scope we do not know is named as it is. */
const SCOPE_KEYS: Record<string, MessageKey> = {
  openid: 'consent.scope.openid',
  profile: 'consent.scope.profile',
  email: 'consent.scope.email',
  offline_access: 'consent.scope.offline_access',
  groups: 'consent.scope.groups',
};

/**
 * A scope in plain words. A scope the configuration ties extra claims to (IDP_CLAIM_SCOPES) names
 * them: a scope of its own says which claims it shares; a standard one adds them to its words.
 */
export function describeScope(t: Translate, scope: string, claimScopes: Config['claimScopes'] = {}): string {
  const key = SCOPE_KEYS[scope];
  const extra = claimScopes[scope]?.join(', ');
  if (key) return extra ? t('consent.scope.alsoClaims', { description: t(key), claims: extra }) : t(key);
  return extra ? t('consent.scope.claims', { claims: extra }) : t('consent.scope.other', { scope });
}

type LocalizedText = NonNullable<Config['resources'][number]['name']>;

/** An operator's text in the page language, else English, else any language it was given in. */
export function localized(text: LocalizedText | undefined, locale: Locale): string | undefined {
  if (text === undefined || typeof text === 'string') return text;
  return text[locale] ?? text.en ?? Object.values(text).find((value) => typeof value === 'string');
}

import type Provider from 'oidc-provider';
import { deviceOf } from '../../audit/device.ts';
import { describeEventType } from '../../audit/event-types.ts';
import type { SecurityEvents } from '../../audit/security-events.ts';
import type { Locale, Translate } from '../../i18n/translate.ts';
import { ACCOUNT_CLIENT_ID } from '../../oidc/configuration/account-client.ts';
import type { StoredSecurityEvent } from '../../storage/ports.ts';

/** One line of "Recent activity": when, what (and through which app), from which device and address. */
export interface ActivityItem {
  /** ISO 8601, for the <time> element. */
  at: string;
  when: string;
  what: string;
  app: string | undefined;
  device: string;
  address: string;
}

const SHOWN = 20;

/** The account's recent security events as the account page shows them, in the page's language. */
export async function recentActivity(
  events: Pick<SecurityEvents, 'ofAccount'>,
  provider: Provider,
  accountId: string,
  { locale, t }: { locale: Locale; t: Translate },
): Promise<ActivityItem[]> {
  const recent = await events.ofAccount(accountId, SHOWN);
  const appNames = await namesOfApps(provider, recent);
  // Times in UTC, said so: the server cannot know the person's time zone.
  const format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  return recent.map((event) => ({
    at: event.at.toISOString(),
    when: `${format.format(event.at)} UTC`,
    what: describeEventType(event.type, locale),
    app: event.clientId ? appNames.get(event.clientId) : undefined,
    device: event.actor === 'admin' ? t('activity.administrator') : describeDevice(event.userAgent, t),
    address: event.ip ?? '–',
  }));
}

function describeDevice(userAgent: string | undefined, t: Translate): string {
  const device = deviceOf(userAgent);
  if (!device) return t('activity.unknownDevice');
  if (device.browser && device.os) return t('activity.deviceOn', { browser: device.browser, os: device.os });
  return device.browser ?? device.os ?? device.raw ?? t('activity.unknownDevice');
}

/** The names of the apps the events went through (the account page's own client needs none). */
async function namesOfApps(provider: Provider, events: StoredSecurityEvent[]): Promise<Map<string, string>> {
  const ids = [...new Set(events.map((event) => event.clientId))].filter((id): id is string => Boolean(id) && id !== ACCOUNT_CLIENT_ID);
  const names = new Map<string, string>();
  await Promise.all(
    ids.map(async (id) => {
      const client = await provider.Client.find(id).catch(() => undefined);
      names.set(id, client?.clientName ?? id);
    }),
  );
  return names;
}

import { describe, expect, test } from '@jest/globals';
import { createLogger } from '../../../src/logging/create-logger.ts';
import { createMailer } from '../../../src/mail/mailer.ts';
import { VIEWS_DIR } from '../../../src/paths.ts';
import { createAccountNotices } from '../../../src/users/account-notices.ts';

/** The email templates, rendered through the outbox (the log) in each language. */
describe('email templates', () => {
  const send = async (locale: 'en' | 'de') => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const mailer = createMailer({ smtpUrl: undefined, from: 'x <x@example.com>', viewsDir: VIEWS_DIR, productName: 'Acme ID', logger });
    await mailer.send({
      to: 'ada@example.com',
      subject: 'subject',
      template: 'verify-email',
      locale,
      locals: { username: 'ada', link: 'https://id.example.com/verify-email?token=abc', hours: 24 },
    });
    const entry = lines.map((line) => JSON.parse(line) as { event?: string; body?: string }).find((line) => line.event === 'mail.outbox');
    return entry?.body ?? '';
  };

  test('English and German bodies come from the catalogues, with their parameters', async () => {
    const english = await send('en');
    expect(english).toContain('Hello ada,');
    expect(english).toContain('This link works once and expires in 24 hours.');
    expect(english).toContain('https://id.example.com/verify-email?token=abc');

    const german = await send('de');
    expect(german).toContain('Hallo ada,');
    expect(german).toContain('Dieser Link funktioniert einmal und läuft in 24 Stunden ab.');
    expect(german).toContain('https://id.example.com/verify-email?token=abc');
    expect(german).not.toContain('Hello');
  });

  test('security notices say what changed, when and by whom, in both languages, and are not "ignore this"', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const mailer = createMailer({ smtpUrl: undefined, from: 'x <x@example.com>', viewsDir: VIEWS_DIR, productName: 'Acme ID', logger });
    const notices = createAccountNotices({ mailer, issuer: 'https://id.example.com', defaultLocale: 'en', logger });
    const user = { id: 'u1', username: 'ada', email: 'ada@example.com' } as Parameters<typeof notices.factorChanged>[0];
    const body = async () => {
      for (let wait = 0; wait < 100 && !lines.some((line) => line.includes('mail.outbox')); wait += 1)
        await new Promise((r) => setTimeout(r, 10));
      const entry = lines.map((line) => JSON.parse(line) as { event?: string; body?: string }).find((line) => line.event === 'mail.outbox');
      lines.length = 0;
      return entry?.body ?? '';
    };
    notices.factorChanged(user, 'passkey_added', { locale: 'en', name: 'Laptop' });
    const english = await body();
    expect(english).toContain('A passkey, “Laptop”, was added to your account.');
    // Outside a request (an administrator's tool) it says so instead of a device.
    expect(english).toContain('By: an administrator of this service');
    expect(english).toContain('Your account page: https://id.example.com/account');
    expect(english).not.toContain('you can ignore it');
    notices.codesFailing(user, { count: 5, blocked: false, locale: 'de' });
    const german = await body();
    expect(german).toContain('danach 5 falsche Codes für den zweiten Schritt in Folge');
    expect(german).toContain('Ändern Sie es jetzt');
  });
});

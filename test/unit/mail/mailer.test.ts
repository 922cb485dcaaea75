import { describe, expect, test } from '@jest/globals';
import { createLogger } from '../../../src/logging/create-logger.ts';
import { createMailer } from '../../../src/mail/mailer.ts';
import { VIEWS_DIR } from '../../../src/paths.ts';

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
});

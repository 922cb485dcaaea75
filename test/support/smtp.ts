import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { sleep } from './eventually.ts';

export interface TestSmtpServer {
  url: string;
  messages: ParsedMail[];
  /** Resolves with the next message to `to` (waiting for it to arrive), the next with `subject` when given. */
  waitFor(to: string, timeoutMs?: number, subject?: string): Promise<ParsedMail>;
  /** The messages to `to` so far (taken or not), with `subject` when given. */
  sentTo(to: string, subject?: string): ParsedMail[];
  close(): Promise<void>;
}

/** A real SMTP server in the test process (loopback only): the app sends to it over SMTP. */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: ParsedMail[] = [];
  const taken = new Set<ParsedMail>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  if (typeof address !== 'object' || !address) throw new Error('SMTP server has no address');
  const recipient = (mail: ParsedMail) =>
    (Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((to) => to?.value.map((value) => value.address));
  return {
    url: `smtp://127.0.0.1:${address.port}`,
    messages,
    sentTo: (to, subject) =>
      messages.filter((message) => recipient(message).includes(to) && (subject === undefined || message.subject === subject)),
    async waitFor(to, timeoutMs = 5000, subject = undefined) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const mail = messages.find(
          (message) => !taken.has(message) && recipient(message).includes(to) && (subject === undefined || message.subject === subject),
        );
        if (mail) {
          taken.add(mail);
          return mail;
        }
        await sleep(25);
      }
      throw new Error(`no email to ${to}${subject ? ` about "${subject}"` : ''} within ${timeoutMs} ms (got ${messages.length} in all)`);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a message's text part that starts with `prefix`. */
export function linkIn(mail: ParsedMail, prefix: string): URL {
  const match = (mail.text ?? '').split(/\s+/).find((word) => word.startsWith(prefix));
  if (!match) throw new Error(`no link starting with ${prefix} in:\n${mail.text}`);
  return new URL(match);
}

import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { compileTemplate } from 'pug';
import { type Locale, translator } from '../i18n/translate.ts';

export interface MailMessage {
  to: string;
  subject: string;
  /** Name of the pair views/emails/<template>.html.pug and .text.pug. */
  template: string;
  /** Language of the message; the templates translate with `t` from the shared catalogues. */
  locale: Locale;
  locals: Record<string, unknown>;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /** 'smtp' or 'outbox' (messages are written to the log, for development). */
  readonly kind: 'smtp' | 'outbox';
  close(): void;
}

export interface MailerOptions {
  smtpUrl: string | undefined;
  from: string;
  viewsDir: string;
  productName: string;
  logger: Logger;
}

/**
 * Sends email through SMTP with nodemailer, rendered from pug templates in an HTML and a text
 * version. Without SMTP_URL (development only; production requires it) each message is written to
 * the log as an "outbox" entry, links included, so a developer can follow them.
 */
export function createMailer({ smtpUrl, from, viewsDir, productName, logger }: MailerOptions): Mailer {
  const log = logger.child({ module: 'mail' });
  // nodemailer and pug are loaded at the first email, not at start: a server may run for hours
  // before it sends one, and together they cost about 14 MiB and 100 ms of start-up.
  let transport: Promise<Transporter> | undefined;
  const transportFor = (url: string) => {
    transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(url));
    return transport;
  };
  const templates = new Map<string, Promise<{ html: compileTemplate; text: compileTemplate }>>();
  const compiled = (name: string) => {
    let pair = templates.get(name);
    if (!pair) {
      const file = (kind: string) => join(viewsDir, 'emails', `${name}.${kind}.pug`);
      pair = import('pug').then(({ default: pug }) => ({
        html: pug.compileFile(file('html'), { basedir: viewsDir }),
        text: pug.compileFile(file('text')),
      }));
      // A template that fails to compile is tried again at the next email, not remembered as failed.
      pair.catch(() => templates.delete(name));
      templates.set(name, pair);
    }
    return pair;
  };

  return {
    kind: smtpUrl ? 'smtp' : 'outbox',
    async send({ to, subject, template, locale, locals }) {
      const { html, text } = await compiled(template);
      const context = { ...locals, productName, subject, lang: locale, t: translator(locale) };
      const body = { html: html(context), text: text(context).trim() };
      if (!smtpUrl) {
        log.info({ event: 'mail.outbox', to, subject, body: body.text }, 'email not sent (no SMTP_URL): outbox');
        return;
      }
      await (await transportFor(smtpUrl)).sendMail({ from, to, subject, ...body });
      log.info({ event: 'mail.sent', template }, 'email sent');
    },
    close() {
      void transport?.then((opened) => opened.close());
    },
  };
}

import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import pug from 'pug';
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
  const transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : undefined;
  const templates = new Map<string, { html: pug.compileTemplate; text: pug.compileTemplate }>();
  const compiled = (name: string) => {
    let pair = templates.get(name);
    if (!pair) {
      const file = (kind: string) => join(viewsDir, 'emails', `${name}.${kind}.pug`);
      pair = { html: pug.compileFile(file('html'), { basedir: viewsDir }), text: pug.compileFile(file('text')) };
      templates.set(name, pair);
    }
    return pair;
  };

  return {
    kind: transport ? 'smtp' : 'outbox',
    async send({ to, subject, template, locale, locals }) {
      const { html, text } = compiled(template);
      const context = { ...locals, productName, subject, lang: locale, t: translator(locale) };
      const body = { html: html(context), text: text(context).trim() };
      if (!transport) {
        log.info({ event: 'mail.outbox', to, subject, body: body.text }, 'email not sent (no SMTP_URL): outbox');
        return;
      }
      await transport.sendMail({ from, to, subject, ...body });
      log.info({ event: 'mail.sent', template }, 'email sent');
    },
    close() {
      transport?.close();
    },
  };
}

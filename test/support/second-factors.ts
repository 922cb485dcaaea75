import { TOTP } from 'otpauth';
import { RP_REDIRECT_URI } from './relying-party.ts';
import { expectPage, type FollowResult, type Page, type UserAgent } from './user-agent.ts';

/** The code a person's authenticator app shows for `secret` (base32), `steps` periods from now. */
export function totpCode(secret: string, steps = 0): string {
  return new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: Date.now() + steps * 30_000 });
}

/**
 * A person's authenticator app. The server accepts each time step's code once, so `code()` gives the
 * code of a step this test has not used yet: the current one, else the next or the previous (the
 * server accepts one step either side), whatever moment the test runs at.
 */
export class AuthenticatorApp {
  readonly secret: string;
  private readonly used = new Set<string>();

  constructor(secret: string) {
    this.secret = secret;
  }

  code(): string {
    for (const steps of [0, 1, -1]) {
      const code = totpCode(this.secret, steps);
      if (!this.used.has(code)) {
        this.used.add(code);
        return code;
      }
    }
    throw new Error('every code the server would accept now was used already');
  }
}

/** The key a set-up page shows as text (grouped in fours for people). */
export function secretOn(page: Page): string {
  const secret = page.$('#totp-secret').text().replace(/\s+/g, '');
  if (!/^[A-Z2-7]{32}$/.test(secret)) throw new Error(`no TOTP secret on ${page.url}:\n${page.$('main').text().trim().slice(0, 300)}`);
  return secret;
}

export function isSecondStepPage(page: Page): boolean {
  return page.$('form[action$="/mfa"] input[name=code]').length > 0;
}

export function isSetupPage(page: Page): boolean {
  return page.$('#totp-secret').length > 0;
}

export function recoveryCodesOn(page: Page): string[] {
  return page
    .$('.recovery-codes code')
    .map((_, element) => page.$(element).text().trim())
    .get();
}

/** Sends a code from the authenticator app on the second step's page. */
export function submitTotp(agent: UserAgent, page: Page, code: string): Promise<FollowResult> {
  return agent.submit(page, 'form[action$="/mfa"]:has(input[name=method][value=totp])', { code }, RP_REDIRECT_URI);
}

export function submitRecoveryCode(agent: UserAgent, page: Page, code: string): Promise<FollowResult> {
  return agent.submit(page, 'form[action$="/mfa"]:has(input[name=method][value=recovery])', { code }, RP_REDIRECT_URI);
}

/**
 * Sets up the authenticator app on a set-up page (in a sign-in, or /account/two-step): reads the key,
 * confirms it with the app's code, and returns the key, the recovery codes shown once and that page.
 */
export async function setUpTotp(
  agent: UserAgent,
  setupPage: Page,
): Promise<{ authenticator: AuthenticatorApp; recoveryCodes: string[]; page: Page }> {
  const authenticator = new AuthenticatorApp(secretOn(setupPage));
  const page = expectPage(await agent.submit(setupPage, 'form:has(input[name=code])', { code: authenticator.code() }, RP_REDIRECT_URI));
  const recoveryCodes = recoveryCodesOn(page);
  if (recoveryCodes.length === 0) throw new Error(`no recovery codes on ${page.url}:\n${page.$('main').text().trim().slice(0, 300)}`);
  return { authenticator, recoveryCodes, page };
}

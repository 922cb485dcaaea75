import { TOTP } from 'otpauth';
import { sleep } from './eventually.ts';
import { RP_REDIRECT_URI } from './relying-party.ts';
import type { SoftwareAuthenticator } from './software-authenticator.ts';
import type { RunningApp } from './test-app.ts';
import { expectPage, type FollowResult, type Page, type UserAgent } from './user-agent.ts';

/** The code a person's authenticator app shows for `secret` (base32), `steps` periods from now. */
export function totpCode(secret: string, steps = 0): string {
  return new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: Date.now() + steps * 30_000 });
}

const PERIOD_MS = 30_000;

/**
 * A person's authenticator app. The server accepts a code only when its time step is later than the
 * last one it accepted for the account (within one step either side of now), so `code()` gives the
 * code of the earliest step the server accepts now that is later than every step given before: the
 * previous one, then the current, then the next; three codes at any moment. It waits for time to
 * pass when all three were given, and, near the end of a step, rather than give the previous step's
 * code, which the server would no longer take a moment later.
 */
export class AuthenticatorApp {
  readonly secret: string;
  private lastStep = Number.NEGATIVE_INFINITY;

  constructor(secret: string) {
    this.secret = secret;
  }

  async code(): Promise<string> {
    for (;;) {
      const now = Date.now();
      const current = Math.floor(now / PERIOD_MS);
      const step = Math.max(current - 1, this.lastStep + 1);
      const late = now % PERIOD_MS > PERIOD_MS - 3000;
      if (step <= current + 1 && !(step === current - 1 && late)) {
        this.lastStep = step;
        return totpCode(this.secret, step - current);
      }
      await sleep(PERIOD_MS - (now % PERIOD_MS) + 50);
    }
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
export function submitTotp(agent: UserAgent, page: Page, code: string, stopAt = RP_REDIRECT_URI): Promise<FollowResult> {
  return agent.submit(page, 'form[action$="/mfa"]:has(input[name=method][value=totp])', { code }, stopAt);
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
  const page = expectPage(
    await agent.submit(setupPage, 'form:has(input[name=code])', { code: await authenticator.code() }, RP_REDIRECT_URI),
  );
  const recoveryCodes = recoveryCodesOn(page);
  if (recoveryCodes.length === 0) throw new Error(`no recovery codes on ${page.url}:\n${page.$('main').text().trim().slice(0, 300)}`);
  return { authenticator, recoveryCodes, page };
}

/** What a passkey form's options request answered, when it was not the options (e.g. 403). */
export interface OptionsRefused {
  refused: number;
  body: Record<string, unknown>;
}

/**
 * Runs a passkey form of `page` as assets/passkeys.js does, with a passkey held in software: POSTs
 * the form's CSRF token to its options URL, has `authenticator` answer the options (a registration
 * for `data-passkey="register"`, else an assertion), and submits the form with the answer and
 * `fields`. Returns where that led, or the options request's refusal.
 */
export async function runPasskeyForm(
  agent: UserAgent,
  page: Page,
  authenticator: SoftwareAuthenticator,
  { fields = {}, stopAt = RP_REDIRECT_URI }: { fields?: Record<string, string>; stopAt?: string } = {},
): Promise<FollowResult | OptionsRefused> {
  const form = page.$('form[data-passkey]').first();
  if (form.length === 0) throw new Error(`no passkey form on ${page.url}`);
  const csrf = form.find('input[name=csrf]').attr('value') ?? '';
  const optionsUrl = new URL(form.attr('data-options-url') ?? '', page.url);
  const answer = await agent.request(optionsUrl, {
    method: 'POST',
    body: new URLSearchParams({ csrf }),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
  });
  const body = (await answer.json()) as Record<string, unknown> & { challenge: string; user: { id: string }; rp: { id?: string } };
  if (!answer.ok) return { refused: answer.status, body };
  const origin = new URL(page.url).origin;
  const response =
    form.attr('data-passkey') === 'register' ? authenticator.create(body, origin) : authenticator.assert({ ...body, origin });
  return agent.submit(page, 'form[data-passkey]', { response: JSON.stringify(response), ...fields }, stopAt);
}

/** Where a passkey form led; throws when its options were refused. */
export function ceremonyResult(result: FollowResult | OptionsRefused): FollowResult {
  if ('refused' in result) throw new Error(`passkey options refused: ${result.refused} ${JSON.stringify(result.body)}`);
  return result;
}

/**
 * As if `seconds` had passed since the browser's session signed in (past the account page's recent
 * sign-in): its sign-in time is dated back where oidc-provider stores it.
 */
export async function dateBackSignIn(server: Pick<RunningApp, 'provider' | 'url'>, agent: UserAgent, seconds = 11 * 60): Promise<void> {
  const name = server.provider.cookieName('session');
  const sessionId = (await agent.jar.getCookies(server.url)).find((cookie) => cookie.key === name)?.value ?? '';
  const session = await server.provider.Session.find(sessionId);
  if (!session?.loginTs) throw new Error('no session to date back');
  session.loginTs -= seconds;
  await session.persist();
}

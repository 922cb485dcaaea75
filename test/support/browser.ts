import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type BrowserContextOptions, type CDPSession, chromium, type Page } from 'playwright-core';

/** Debian's chromium, installed by scripts/test-deps.sh; tools that download a browser fail offline. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOT_DIR = join(ROOT, 'test-artifacts', 'screenshots');

/** One headless browser per test file; launch() gives it a new, empty profile. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh context (cookies, storage) in an English-speaking browser unless told otherwise. */
export function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({ locale: 'en-US', ...options });
}

/** Chromium logs every 4xx page load as an error; pages that answer 400/401/403/404/429 on purpose are fine. */
const EXPECTED_STATUS = /Failed to load resource: the server responded with a status of (40[0134]|429)/;

/**
 * Records what a person would never see but we must: console errors (a CSP violation is one: a
 * broken style, script or image) and uncaught script errors.
 */
export function watchProblems(page: Page, problems: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error' && !EXPECTED_STATUS.test(message.text())) problems.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
}

let axeSource: string | undefined;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (WCAG 2.0-2.2 A and AA rules and best practices) in the page and returns every
 * violation, with its impact. The script is evaluated through the DevTools protocol, so the
 * page keeps its real CSP (no bypass): what is tested is what people get.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  // A string, because the test project has no DOM types: this runs in the page, not in Node.
  const violations = (await page.evaluate(`axe
    .run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} } })
    .then((result) => result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? null,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.map(String).join(' ')),
    })))`)) as AxeViolation[];
  return violations;
}

/** Saves a full-page screenshot as a test artifact (test-artifacts/screenshots, not committed). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A small logo for the test relying party, served (like its pages) by the browser's request routing. */
export const RP_LOGO_URI = 'https://rp.example.test/logo.svg';
const RP_LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#0f766e"/><path d="M18 44V20h14a8 8 0 0 1 0 16h-6v8z M26 28h6" stroke="#fff" stroke-width="5" fill="none" stroke-linejoin="round"/></svg>`;

/** The relying party's logo, served by the browser's request routing (https://rp.example.test does not exist here). */
export async function routeRelyingPartyLogo(context: BrowserContext): Promise<void> {
  await context.route(RP_LOGO_URI, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: RP_LOGO }));
}

export interface RelyingPartySite {
  url: string;
  redirectUri: string;
  postLogoutUri: string;
  close(): Promise<void>;
}

/**
 * The relying party's web site, on loopback: the browser really arrives at the app's redirect URI
 * (through our redirects), and the test reads the authorization response from the address bar, as
 * the app would. Every path answers with a small page.
 */
export async function startRelyingPartySite(): Promise<RelyingPartySite> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><title>Example App</title><h1>Example App</h1></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    redirectUri: `${url}/callback`,
    postLogoutUri: `${url}/signed-out`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The id of the focused element (or its tag and text), read in the page. */
export function focused(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return 'body';
    return element.id ? '#' + element.id : element.tagName.toLowerCase() + ':' + (element.textContent || '').trim();
  })()`) as Promise<string>;
}

/** The focused element's outline, to prove a keyboard user can see where they are. */
export function focusOutline(page: Page): Promise<{ style: string; width: string }> {
  return page.evaluate(`(() => {
    const style = getComputedStyle(document.activeElement);
    return { style: style.outlineStyle, width: style.outlineWidth };
  })()`) as Promise<{ style: string; width: string }>;
}

export interface VirtualAuthenticator {
  session: CDPSession;
  authenticatorId: string;
}

/**
 * A platform authenticator in the page's browser, through the DevTools protocol (WebAuthn domain):
 * internal transport (like a laptop's fingerprint reader), resident keys (passkeys), user
 * verification that succeeds, and presence simulated, so every ceremony completes without a person.
 * @see https://chromedevtools.github.io/devtools-protocol/tot/WebAuthn/
 */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<VirtualAuthenticator> {
  const session = await context.newCDPSession(page);
  await session.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await session.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { session, authenticatorId };
}

/** The passkeys a virtual authenticator holds. */
export async function credentialsOf({ session, authenticatorId }: VirtualAuthenticator) {
  return (await session.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
}

/**
 * Records the `mediation` of every WebAuthn sign-in request the context's pages make, across page
 * loads, so a test can tell a sign-in through autofill (`conditional`) from one through a button
 * (`modal`).
 */
export async function recordWebAuthnRequests(context: BrowserContext): Promise<string[]> {
  const mediations: string[] = [];
  await context.exposeBinding('idpRecordMediation', (_source, mediation: string) => {
    mediations.push(mediation);
  });
  await context.addInitScript(`(() => {
    const get = navigator.credentials.get.bind(navigator.credentials);
    navigator.credentials.get = (options) => {
      window.idpRecordMediation(options && options.mediation ? options.mediation : 'modal');
      return get(options);
    };
  })()`);
  return mediations;
}

/** Makes the browser say it cannot offer passkeys in autofill (as browsers without conditional mediation do). */
export async function withoutPasskeyAutofill(context: BrowserContext): Promise<void> {
  await context.addInitScript('PublicKeyCredential.isConditionalMediationAvailable = async () => false;');
}

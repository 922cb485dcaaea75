import * as cheerio from 'cheerio';
import { CookieJar } from 'tough-cookie';

export interface Page {
  status: number;
  url: string;
  html: string;
  $: cheerio.CheerioAPI;
  headers: Headers;
}

export interface FollowResult {
  /** The page where redirects stopped (non-3xx), or undefined when stopped at `stopAt`. */
  page?: Page;
  /** The URL the last redirect pointed at when it matched `stopAt`. */
  redirectedTo?: URL;
  /** Every URL visited, in order. */
  hops: string[];
}

/**
 * A minimal browser for browser-less flow tests: a real cookie jar (path-scoped cookies matter to
 * oidc-provider), manual redirects so the test sees each hop, and HTML form helpers.
 */
export class UserAgent {
  readonly jar = new CookieJar();
  /**
   * Plays the browser behind a TLS-terminating proxy: https URLs are fetched over plain http with
   * X-Forwarded-Proto: https, while cookies are kept as for the https site (Secure, __Host-).
   */
  readonly behindTlsProxy: boolean;
  /** Sent as X-Forwarded-For, as a trusted proxy would add it (to play a client at that address). */
  readonly forwardedFor: string | undefined;
  /** Sent with every request, as a browser sends its User-Agent and Accept-Language. */
  readonly headers: Record<string, string>;
  /** Sends each request: the global fetch, or one that tags or bounds requests (the load of the failover tests). */
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>;

  constructor({
    behindTlsProxy = false,
    forwardedFor,
    headers = {},
    fetch: send = (url, init) => fetch(url, init),
  }: {
    behindTlsProxy?: boolean;
    forwardedFor?: string;
    headers?: Record<string, string>;
    fetch?: (url: string, init: RequestInit) => Promise<Response>;
  } = {}) {
    this.behindTlsProxy = behindTlsProxy;
    this.forwardedFor = forwardedFor;
    this.headers = headers;
    this.fetch = send;
  }

  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = String(url);
    const headers = new Headers({ ...this.headers, ...Object.fromEntries(new Headers(init.headers)) });
    const cookie = await this.jar.getCookieString(target);
    if (cookie) headers.set('Cookie', cookie);
    if (this.forwardedFor) headers.set('X-Forwarded-For', this.forwardedFor);
    let wire = target;
    if (this.behindTlsProxy && target.startsWith('https:')) {
      wire = `http:${target.slice('https:'.length)}`;
      headers.set('X-Forwarded-Proto', 'https');
    }
    const response = await this.fetch(wire, { ...init, headers, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) await this.jar.setCookie(setCookie, target);
    return response;
  }

  /** Follows redirects until a page is returned or a Location starts with `stopAt`. */
  async follow(url: string | URL, init: RequestInit = {}, stopAt?: string): Promise<FollowResult> {
    const hops: string[] = [];
    let current = new URL(url);
    let response = await this.request(current, init);
    hops.push(current.toString());
    for (let count = 0; count < 20; count += 1) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        return { page: await toPage(response, current), hops };
      }
      const next = new URL(location, current);
      if (stopAt && next.toString().startsWith(stopAt)) return { redirectedTo: next, hops };
      current = next;
      response = await this.request(current);
      hops.push(current.toString());
    }
    throw new Error(`too many redirects: ${hops.join(' -> ')}`);
  }

  async get(url: string | URL, stopAt?: string): Promise<FollowResult> {
    return this.follow(url, {}, stopAt);
  }

  /**
   * Submits the form matching `selector` on `page`, with its hidden fields (the CSRF token) plus
   * `fields`, as a browser would (same-origin Fetch Metadata included).
   */
  async submit(page: Page, selector: string, fields: Record<string, string> = {}, stopAt?: string): Promise<FollowResult> {
    const form = page.$(selector).first();
    if (form.length === 0) throw new Error(`no form ${selector} on ${page.url}:\n${page.html.slice(0, 500)}`);
    const body = new URLSearchParams();
    form.find('input[type=hidden]').each((_, input) => {
      const name = page.$(input).attr('name');
      if (name) body.set(name, page.$(input).attr('value') ?? '');
    });
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    const action = new URL(form.attr('action') ?? page.url, page.url);
    return this.follow(
      action,
      {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
      },
      stopAt,
    );
  }
}

async function toPage(response: Response, url: URL): Promise<Page> {
  const html = await response.text();
  return { status: response.status, url: url.toString(), html, $: cheerio.load(html), headers: response.headers };
}

export function expectPage(result: FollowResult): Page {
  if (!result.page) throw new Error(`expected a page, got a redirect to ${result.redirectedTo}`);
  return result.page;
}

export function expectRedirect(result: FollowResult): URL {
  if (!result.redirectedTo) {
    throw new Error(`expected a redirect, got page ${result.page?.status} ${result.page?.url}:\n${result.page?.$('main').text().trim()}`);
  }
  return result.redirectedTo;
}

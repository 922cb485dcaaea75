import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { sleep } from './eventually.ts';
import { type NewAccount, type RelyingParty, RP_REDIRECT_URI } from './relying-party.ts';
import { type FollowResult, type Page, UserAgent } from './user-agent.ts';

/**
 * Sign-ins and token requests running at once against a server (or a load balancer), for the
 * failover and many-instance tests: each sign-in is a new browser going through the authorization
 * request, the sign-in form, consent and the code exchange, then one refresh; token workers keep
 * refreshing. Nothing retries a request: a failed step ends its flow, is counted by what it
 * answered, and the worker starts a new flow after a short pause (a client's retry with backoff).
 * Every answer is checked: a successful flow must end with tokens of the account that signed in.
 *
 * Each step sends its own X-Request-Id (the server keeps a well-formed one, so every line it logs
 * for that request carries it), and a failed step is reported with it, so a test can print what the
 * server said about each failure. No request waits longer than REQUEST_TIMEOUT_MS: a server that
 * never answers is a failure ("timeout <step>"), not a test that hangs.
 */

/** How long one request of the load may take before it counts as failed. */
export const REQUEST_TIMEOUT_MS = 20_000;

/** The request id of the step running in this async context. */
const currentStep = new AsyncLocalStorage<string>();

/**
 * The load's fetch, for its browsers and for the relying party it drives (`RelyingParty.discover(url,
 * client, { fetch: loadFetch })`): sends the running step's request id, and gives up after
 * REQUEST_TIMEOUT_MS.
 */
export function loadFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const requestId = currentStep.getStore();
  if (requestId) headers.set('X-Request-Id', requestId);
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  return fetch(url, { ...init, headers, signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
}

/** An account that exists on the server, with the id its tokens must carry as `sub`. */
export interface LoadAccount extends NewAccount {
  id: string;
}

/** A sign-in that went through: what the server acknowledged, to be checked again later. */
export interface CompletedSignIn {
  account: LoadAccount;
  /** The browser, holding the session cookie. */
  agent: UserAgent;
  refreshToken: string;
  startedAt: number;
  finishedAt: number;
}

/** One failed step: what it answered, when, and the request id the server logged it under. */
export interface FailedRequest {
  kind: string;
  at: number;
  requestId: string | undefined;
}

export interface LoadReport {
  signIns: { completed: number; failed: number };
  tokenRequests: { completed: number; failed: number };
  /** Failed requests by answer and step, e.g. `503 login`, `ECONNREFUSED token`, `timeout consent`. */
  failures: Record<string, number>;
  /** Each failed request, in order. */
  failed: FailedRequest[];
  /** Answers that were wrong rather than failed: tokens of someone else, a 200 that is not what was asked. Must stay empty. */
  wrong: string[];
  completed: CompletedSignIn[];
}

export interface LoadOptions {
  /** The app, discovered at the address the browsers use too (a load balancer, or the server). */
  rp: RelyingParty;
  /** Signed in in turn, each by a new browser. */
  accounts: LoadAccount[];
  signInWorkers: number;
  tokenWorkers: number;
  /** A refresh token the token workers use (of `tokenAccount`). */
  refreshToken?: string;
  tokenAccount?: LoadAccount;
  /** Pause after a failed flow or request (ms). */
  backoffMs?: number;
}

export interface RunningLoad {
  /** Sign-ins that started after `since` (epoch ms) and went through. */
  completedSince(since: number): number;
  /**
   * Resolves as soon as `count` sign-ins that started after `since` went through, or after
   * `withinMs` at the latest, with how many did.
   */
  whenCompleted(since: number, count: number, withinMs: number): Promise<number>;
  report(): LoadReport;
  /**
   * Stops between two steps: each running flow ends after the request it is making
   * (REQUEST_TIMEOUT_MS at most), and the load reports.
   */
  stop(): Promise<LoadReport>;
}

/** A step that did not get the answer a working server gives. */
class StepFailure extends Error {
  readonly kind: string;
  /** The server answered, but not what a working server answers: a defect, not an outage. */
  readonly wrong: boolean;
  requestId: string | undefined;

  constructor(step: string, answer: string, wrong = false) {
    super(`${answer} ${step}`);
    this.kind = `${answer} ${step}`;
    this.wrong = wrong;
  }
}

/** The load was stopped between two steps of a flow: not a failure. */
class Stopped extends Error {}

/** What a failed request answered: its status, or how the connection failed (`timeout`: no answer in time). */
function answerOf(error: unknown): string {
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number') return String(status);
  const cause = (error as { cause?: { code?: unknown; status?: unknown; name?: unknown } }).cause;
  if ((error as { name?: unknown }).name === 'TimeoutError' || cause?.name === 'TimeoutError') return 'timeout';
  if (typeof cause?.status === 'number') return String(cause.status);
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.message.slice(0, 60) : 'error';
}

/** The page the browser stopped at, which must be the one `isExpected` recognizes. */
function expectStep(name: string, result: FollowResult, isExpected: (page: Page) => boolean): Page {
  const { page } = result;
  if (!page) throw new StepFailure(name, `redirect to ${result.redirectedTo?.pathname}`, true);
  if (page.status >= 400) throw new StepFailure(name, String(page.status));
  if (!isExpected(page)) throw new StepFailure(name, `${page.status} unexpected page ${new URL(page.url).pathname}`, true);
  return page;
}

/** The callback the browser was sent back to, with a code, or the error the server sent along (a clean failure). */
function expectCode(name: string, result: FollowResult): URL {
  const callback = result.redirectedTo;
  if (!callback) {
    const status = result.page?.status ?? 0;
    throw new StepFailure(name, status >= 400 ? String(status) : `${status} page instead of the app`, status < 400);
  }
  const error = callback.searchParams.get('error');
  if (error) throw new StepFailure(name, error, !['temporarily_unavailable', 'server_error'].includes(error));
  return callback;
}

export function startSignInLoad(options: LoadOptions): RunningLoad {
  const { rp, accounts, backoffMs = 100 } = options;
  const report: LoadReport = {
    signIns: { completed: 0, failed: 0 },
    tokenRequests: { completed: 0, failed: 0 },
    failures: {},
    failed: [],
    wrong: [],
    completed: [],
  };
  let running = true;
  let next = 0;
  const runId = randomBytes(3).toString('hex');
  let requestCount = 0;
  const fail = (failure: unknown) => {
    const known = failure instanceof StepFailure ? failure : new StepFailure('flow', answerOf(failure));
    report.failures[known.kind] = (report.failures[known.kind] ?? 0) + 1;
    report.failed.push({ kind: known.kind, at: Date.now(), requestId: known.requestId });
    if (known.wrong) report.wrong.push(known.kind);
  };
  const waiters = new Set<() => void>();
  const completedSince = (since: number) => report.completed.filter((signIn) => signIn.startedAt > since).length;

  /** Runs one step (a request and the check of its answer) under a request id of its own. */
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    if (!running) throw new Stopped();
    requestCount += 1;
    const requestId = `load-${runId}-${requestCount}`;
    try {
      return await currentStep.run(requestId, run);
    } catch (error) {
      const failure = error instanceof StepFailure ? error : new StepFailure(name, answerOf(error));
      failure.requestId ??= requestId;
      throw failure;
    }
  };

  const signIn = async (account: LoadAccount): Promise<void> => {
    const startedAt = Date.now();
    const agent = new UserAgent({ fetch: loadFetch });
    const authorization = await rp.authorize();
    const loginPage = await step('authorize', async () =>
      expectStep('authorize', await agent.get(authorization.url, RP_REDIRECT_URI), (page) => page.$('form[action$="/login"]').length > 0),
    );
    const consentPage = await step('login', async () =>
      expectStep(
        'login',
        await agent.submit(loginPage, 'form[action$="/login"]', { login: account.username, password: account.password }, RP_REDIRECT_URI),
        (page) => page.$('form[action$="/confirm"]').length > 0,
      ),
    );
    const callback = await step('consent', async () =>
      expectCode('consent', await agent.submit(consentPage, 'form[action$="/confirm"]', {}, RP_REDIRECT_URI)),
    );
    const refreshToken = await step('code exchange', async () => {
      const tokens = await rp.exchange(authorization, callback);
      if (tokens.claims()?.sub !== account.id)
        throw new StepFailure('code exchange', `tokens of ${tokens.claims()?.sub} for ${account.id}`, true);
      if (!tokens.refresh_token) throw new StepFailure('code exchange', 'no refresh token', true);
      return tokens.refresh_token;
    });
    const refreshed = await step('refresh', async () => {
      const tokens = await rp.refresh(refreshToken);
      if (tokens.claims()?.sub !== account.id) throw new StepFailure('refresh', `tokens of ${tokens.claims()?.sub}`, true);
      return tokens;
    });
    report.completed.push({ account, agent, refreshToken: refreshed.refresh_token ?? refreshToken, startedAt, finishedAt: Date.now() });
    for (const waiter of waiters) waiter();
  };

  const signInWorker = async () => {
    while (running) {
      const account = accounts[next % accounts.length];
      next += 1;
      if (!account) throw new Error('no accounts to sign in');
      try {
        await signIn(account);
        report.signIns.completed += 1;
      } catch (failure) {
        if (failure instanceof Stopped) return;
        report.signIns.failed += 1;
        fail(failure);
        await sleep(backoffMs);
      }
    }
  };

  const tokenWorker = async () => {
    const { refreshToken, tokenAccount } = options;
    if (!refreshToken || !tokenAccount) return;
    while (running) {
      try {
        await step('token', async () => {
          const refreshed = await rp.refresh(refreshToken);
          if (refreshed.claims()?.sub !== tokenAccount.id) throw new StepFailure('token', `tokens of ${refreshed.claims()?.sub}`, true);
        });
        report.tokenRequests.completed += 1;
      } catch (failure) {
        if (failure instanceof Stopped) return;
        report.tokenRequests.failed += 1;
        fail(failure);
        await sleep(backoffMs);
      }
    }
  };

  const workers = [
    ...Array.from({ length: options.signInWorkers }, () => signInWorker()),
    ...Array.from({ length: options.tokenWorkers }, () => tokenWorker()),
  ];
  return {
    completedSince,
    whenCompleted(since, count, withinMs) {
      return new Promise((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(completedSince(since));
        };
        const check = () => {
          if (completedSince(since) >= count) finish();
        };
        const timer = setTimeout(finish, withinMs);
        waiters.add(check);
        check();
      });
    },
    report: () => report,
    async stop() {
      running = false;
      await Promise.all(workers);
      return report;
    },
  };
}

/**
 * Whether what a completed sign-in left on the server is all still there: the refresh token works
 * (its grant too), and the browser's session signs in again without a prompt. Returns what is
 * missing, or nothing.
 */
export async function checkKept(rp: RelyingParty, signIn: CompletedSignIn): Promise<string[]> {
  const missing: string[] = [];
  try {
    const refreshed = await rp.refresh(signIn.refreshToken);
    if (refreshed.claims()?.sub !== signIn.account.id) missing.push(`refresh gave tokens of ${refreshed.claims()?.sub}`);
  } catch (error) {
    missing.push(`refresh token (${answerOf(error)}: ${(error as Error).message.slice(0, 80)})`);
  }
  const again = await rp.authorize({ prompt: 'none', scope: 'openid' });
  const result = await signIn.agent.get(again.url, RP_REDIRECT_URI);
  const callback = result.redirectedTo;
  if (!callback || callback.searchParams.get('error')) {
    missing.push(`session (${callback?.searchParams.get('error') ?? `page ${result.page?.status}`})`);
  } else {
    const tokens = await rp.exchange(again, callback);
    if (tokens.claims()?.sub !== signIn.account.id) missing.push(`session gave tokens of ${tokens.claims()?.sub}`);
  }
  return missing;
}

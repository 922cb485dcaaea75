import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Csrf } from '../../http/csrf.ts';
import { setFlash } from '../../http/flash.ts';
import { formField, parseForm, refuseForgedForm } from '../../http/forms.ts';
import { languageOf } from '../../http/locale.ts';
import { noStore } from '../../http/no-store.ts';
import type { Locale } from '../../i18n/translate.ts';
import type { Demo } from './demo.ts';
import { createDemoApp, type DemoApp, decodeJwtParts, type Outcome, type TokenSet } from './demo-app.ts';
import { createDemoSessions, type DemoSession } from './demo-sessions.ts';

const COOKIE = 'idp_demo';

export interface TokenDebuggerDeps {
  demo: Demo;
  issuer: string;
  /** Where the demo app calls the server (createDemoApp); default: the issuer. */
  serverUrl?: string;
  csrf: Csrf;
}

/**
 * The embedded mode's demo app as a token debugger. /demo/callback receives the code and, on a
 * button press (a POST with a CSRF token bound to this browser's demo session), exchanges it; the
 * tokens page shows the decoded ID token (header, claims, expiry in words, signature checked
 * against /jwks), the access and refresh tokens and the userinfo answer, with buttons to refresh,
 * ask userinfo again and log out (RP-initiated logout). The curl line for a terminal stays. No
 * inline script (the CSP forbids it): views/assets/demo.js only adds the copy buttons.
 */
export function createTokenDebugger({ demo, issuer, serverUrl, csrf }: TokenDebuggerDeps): Router {
  const app = createDemoApp(demo, issuer, serverUrl);
  const sessions = createDemoSessions();
  const router = new Router({ prefix: '/demo' });
  router.use(noStore, demoSession);

  /** This browser's demo session id: a random value in a signed, HttpOnly cookie, made on first visit. */
  async function demoSession(ctx: Context, next: Next) {
    let id = ctx.cookies.get(COOKIE, { signed: true });
    if (!id || !/^[A-Za-z0-9_-]{24}$/.test(id)) {
      id = sessions.newId();
      ctx.cookies.set(COOKIE, id, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/demo' });
    }
    ctx.state.demoId = id;
    ctx.state.csrfToken = csrf.issue(`demo:${id}`);
    await next();
  }
  const idOf = (ctx: Context) => String(ctx.state.demoId);
  const checkForm = async (ctx: Context, next: Next) => {
    if (await refuseForgedForm(ctx, csrf, `demo:${idOf(ctx)}`, 'demo.formExpired')) return;
    await next();
  };

  router.get('/', async function demoStart(ctx) {
    const { t } = languageOf(ctx);
    await ctx.render('demo/start', {
      title: t('demo.title'),
      authorizationUrl: demo.authorizationUrl,
      hasTokens: Boolean(sessions.get(idOf(ctx))?.tokens),
      signedOut: ctx.query.state === 'signed-out',
    });
  });

  router.get('/callback', async function demoCallback(ctx) {
    const { code, error, error_description: description, state, iss } = ctx.query;
    await renderCallback(ctx, {
      code: typeof code === 'string' ? code : undefined,
      error: typeof error === 'string' ? { error, description: typeof description === 'string' ? description : '' } : undefined,
      state: typeof state === 'string' ? state : undefined,
      iss: typeof iss === 'string' ? iss : undefined,
    });
  });

  router.post('/exchange', parseForm, checkForm, async function demoExchange(ctx) {
    const code = formField(ctx, 'code');
    const exchanged = await app.exchange(code);
    if (!exchanged.ok) {
      ctx.status = 400;
      await renderCallback(ctx, { code, exchangeError: exchanged });
      return;
    }
    const tokens = exchanged.value;
    sessions.set(idOf(ctx), { tokens, userinfo: await app.userinfo(tokens.accessToken) });
    ctx.status = 303;
    ctx.redirect('/demo/tokens');
  });

  router.get('/tokens', async function demoTokens(ctx) {
    const session = sessions.get(idOf(ctx));
    if (!session?.tokens) {
      ctx.redirect('/demo');
      return;
    }
    const { t, locale } = languageOf(ctx);
    await ctx.render('demo/tokens', { title: t('demo.tokensTitle'), ...(await tokensView(app, session, session.tokens, locale)) });
  });

  router.post('/refresh', parseForm, checkForm, async function demoRefresh(ctx) {
    const { t } = languageOf(ctx);
    const session = sessions.get(idOf(ctx));
    const refreshToken = session?.tokens?.refreshToken;
    if (!session || !refreshToken) {
      ctx.status = 303;
      ctx.redirect('/demo/tokens');
      return;
    }
    const refreshed = await app.refresh(refreshToken);
    if (refreshed.ok) {
      // A refresh answer may leave out what did not change (the refresh token when it is not rotated).
      const tokens = { ...refreshed.value, refreshToken: refreshed.value.refreshToken ?? refreshToken };
      sessions.set(idOf(ctx), { tokens, userinfo: session.userinfo });
      setFlash(ctx, { category: 'success', message: t('demo.refreshed') });
    } else {
      setFlash(ctx, { category: 'error', message: t('demo.callFailed', { error: refreshed.error, description: refreshed.description }) });
    }
    ctx.status = 303;
    ctx.redirect('/demo/tokens');
  });

  router.post('/userinfo', parseForm, checkForm, async function demoUserinfo(ctx) {
    const session = sessions.get(idOf(ctx));
    if (session?.tokens) sessions.set(idOf(ctx), { tokens: session.tokens, userinfo: await app.userinfo(session.tokens.accessToken) });
    ctx.status = 303;
    ctx.redirect('/demo/tokens');
  });

  /** The app forgets its tokens, then sends the browser to the server's logout, which comes back to /demo. */
  router.post('/logout', parseForm, checkForm, async function demoLogout(ctx) {
    const idToken = sessions.get(idOf(ctx))?.tokens?.idToken;
    sessions.delete(idOf(ctx));
    ctx.status = 303;
    ctx.redirect(app.endSessionUrl(idToken, 'signed-out'));
  });

  async function renderCallback(
    ctx: Context,
    page: {
      code?: string | undefined;
      error?: { error: string; description: string } | undefined;
      exchangeError?: Outcome<unknown> | undefined;
      state?: string | undefined;
      iss?: string | undefined;
    },
  ) {
    const { t } = languageOf(ctx);
    await ctx.render('demo/callback', {
      title: t('demo.title'),
      ...page,
      exchangeError: page.exchangeError && !page.exchangeError.ok ? page.exchangeError : undefined,
      authorizationUrl: demo.authorizationUrl,
      curl: page.code ? app.curl(page.code) : undefined,
      codeId: randomBytes(4).toString('hex'),
    });
  }

  return router;
}

/** What the tokens page shows: each token decoded, times in words, the signature's verdict. */
async function tokensView(app: DemoApp, session: DemoSession, tokens: TokenSet, locale: Locale) {
  const now = Date.now();
  const idToken = tokens.idToken ? decodeJwtParts(tokens.idToken) : undefined;
  const expiresAt = typeof idToken?.claims.exp === 'number' ? idToken.claims.exp * 1000 : undefined;
  const accessJwt = decodeJwtParts(tokens.accessToken);
  return {
    idToken: tokens.idToken && {
      raw: tokens.idToken,
      header: json(idToken?.header),
      claims: json(idToken?.claims),
      expires: expiresAt === undefined ? undefined : { words: inWords(expiresAt, now, locale), at: new Date(expiresAt).toISOString() },
      expired: expiresAt !== undefined && expiresAt <= now,
      signature: await app.verify(tokens.idToken),
    },
    accessToken: {
      raw: tokens.accessToken,
      type: tokens.tokenType,
      scope: tokens.scope,
      claims: accessJwt ? json(accessJwt.claims) : undefined,
      expires:
        tokens.accessTokenExpiresAt === undefined
          ? undefined
          : { words: inWords(tokens.accessTokenExpiresAt, now, locale), at: new Date(tokens.accessTokenExpiresAt).toISOString() },
    },
    refreshToken: tokens.refreshToken,
    userinfo: session.userinfo?.ok ? { body: json(session.userinfo.value) } : session.userinfo && { error: session.userinfo },
  };
}

const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value, null, 2));

/** "in 59 minutes", "3 minutes ago", in the page's language (Intl.RelativeTimeFormat). */
export function inWords(at: number, now: number, locale: string): string {
  const seconds = Math.round((at - now) / 1000);
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const size = Math.abs(seconds);
  if (size < 90) return format.format(seconds, 'second');
  if (size < 90 * 60) return format.format(Math.round(seconds / 60), 'minute');
  if (size < 36 * 3600) return format.format(Math.round(seconds / 3600), 'hour');
  return format.format(Math.round(seconds / 86400), 'day');
}

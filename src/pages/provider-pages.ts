import type { Middleware } from 'koa';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { languageOf, useUiLocales } from '../http/locale.ts';
import type { MessageKey } from '../i18n/translate.ts';

type RenderError = NonNullable<Configuration['renderError']>;
type LogoutFeature = NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']>;

/** Friendly text for protocol errors a person may land on; anything else gets a generic line. */
const FRIENDLY: Record<string, MessageKey> = {
  invalid_client: 'error.invalid_client',
  invalid_redirect_uri: 'error.invalid_redirect_uri',
  invalid_request: 'error.invalid_request',
  server_error: 'error.server_error',
  // A store unavailable for a moment (a Redis failover): the same words, and trying again helps.
  temporarily_unavailable: 'error.server_error',
};

/** These pages are rendered by oidc-provider, which has parsed the request's ui_locales (if any). */
function pageLanguage(ctx: KoaContextWithOIDC) {
  useUiLocales(ctx, ctx.oidc?.params?.ui_locales);
  return languageOf(ctx);
}

/** The app that asked for a sign-out, kept for the "signed out" page. */
const LOGOUT_CLIENT = 'logout_client';

/** The name of a registered client that is disabled (the client adapter noted it when it refused it), else undefined. */
export type DisabledClientName = (clientId: string) => string | undefined;

/**
 * Error page for protocol errors that cannot be returned to the client (unknown client, unregistered
 * redirect_uri, ...). Never redirects and never shows internals; the protocol error code and
 * description are shown because they help the application's developer. oidc-provider sees a
 * disabled app as an unknown one (invalid_client); its people are told it was disabled instead
 * (client ids are not secret, and "not registered" sends them looking for the wrong fault).
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#rendererror
 */
function errorPage(disabledName: DisabledClientName): RenderError {
  return async function renderError(ctx, out) {
    const { t } = pageLanguage(ctx);
    const error = typeof out.error === 'string' ? out.error : 'server_error';
    const description = error === 'server_error' ? undefined : out.error_description;
    const named = ctx.oidc?.params?.client_id ?? ctx.query.client_id;
    const disabled = error === 'invalid_client' && typeof named === 'string' ? disabledName(named) : undefined;
    const key = FRIENDLY[error];
    await ctx.render('error', {
      title: t('error.protocolTitle'),
      message: disabled ? t('error.client_disabled', { client: disabled }) : key ? t(key) : t('error.generic'),
      code: error,
      description,
    });
  };
}

/**
 * Whether the id_token_hint names the very session being ended: its `sub` is the signed-in account
 * and its `sid`, when present, the session's id for that client. oidc-provider checks only the
 * signature (and accepts expired hints), so any site holding someone's old or other ID token could
 * otherwise sign a victim out (OpenID Connect RP-Initiated Logout 1.0 §2, §6).
 */
function hintIsThisSession(ctx: KoaContextWithOIDC): boolean {
  const hint = ctx.oidc.entities.IdTokenHint?.payload;
  const session = ctx.oidc.session;
  if (!hint || !session?.accountId || hint.sub !== session.accountId) return false;
  if (hint.sid === undefined) return true;
  const clientId = ctx.oidc.client?.clientId;
  // Read, not session.sidFor(): that creates an empty entry for a client the session never saw.
  return clientId !== undefined && session.authorizations?.[clientId]?.sid === hint.sid;
}

/**
 * Confirmation page for RP-initiated logout; `form` is oidc-provider's hidden form with its xsrf
 * token. A request that does not prove it comes from this very session could be a forced logout by
 * any site, so the person confirms (ASVS 5.0 10.6.2). With a hint of this session the page submits
 * itself through a same-origin script; without JavaScript it stays a one-click confirmation.
 */
const logoutSource: LogoutFeature['logoutSource'] = async (ctx: KoaContextWithOIDC, form: string) => {
  const { t } = pageLanguage(ctx);
  const client = ctx.oidc.client;
  const verified = hintIsThisSession(ctx);
  // A hint that names someone or something else: say why we ask.
  const foreignHint = !verified && typeof ctx.oidc.params?.id_token_hint === 'string';
  // oidc-provider tells the "signed out" page which app asked only when the person signs out of
  // that app alone; ours signs out of everything, so the page learns the app from this cookie.
  if (client)
    ctx.cookies.set(LOGOUT_CLIENT, client.clientId, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      path: '/session/end',
      maxAge: 10 * 60 * 1000,
    });
  await ctx.render('logout', { title: t('logout.title'), form, clientName: client?.clientName, verified, foreignHint });
};

/**
 * "You have been signed out", when the app gave no post_logout_redirect_uri: back to the app (its
 * home page, else the site of its first https redirect URI), and a way to sign in again.
 */
const postLogoutSuccessSource: LogoutFeature['postLogoutSuccessSource'] = async (ctx: KoaContextWithOIDC) => {
  const { t } = pageLanguage(ctx);
  const remembered = ctx.cookies.get(LOGOUT_CLIENT, { signed: true });
  ctx.cookies.set(LOGOUT_CLIENT, null, { path: '/session/end', secure: ctx.secure });
  const client = ctx.oidc.client ?? (remembered ? await ctx.oidc.provider.Client.find(remembered) : undefined);
  const site = client?.redirectUris?.map((uri) => URL.parse(uri)).find((url) => url?.protocol === 'https:')?.origin;
  await ctx.render('logged-out', {
    title: t('loggedOut.title'),
    clientName: client?.clientName ?? client?.clientId,
    clientUri: client?.clientUri ?? site,
  });
};

/** Everything oidc-provider renders itself, for createProvider. */
export function createProviderPages(disabledName: DisabledClientName) {
  return { renderError: errorPage(disabledName), logoutSource, postLogoutSuccessSource };
}

/**
 * Authorization and RP-initiated logout by POST (OpenID Connect Core §3.1.2.1, RP-Initiated Logout
 * §2) are off unless IDP_AUTHORIZATION_POST is set; oidc-provider then has no such route and the
 * request would end at "Page not found". It gets a protocol answer instead: 405 with `Allow: GET, HEAD`,
 * naming the setting (RFC 9110 §15.5.6).
 */
export function refusePostWhenDisabled(paths: string[]): Middleware {
  const refused = new Set(paths);
  return async function refuseProtocolPost(ctx, next) {
    if (ctx.method !== 'POST' || !refused.has(ctx.path)) return next();
    ctx.status = 405;
    ctx.set('Allow', 'GET, HEAD');
    const description = `${ctx.path} accepts GET only; POST needs IDP_AUTHORIZATION_POST=true on this server`;
    if (ctx.accepts('html', 'json') === 'json') {
      ctx.body = { error: 'invalid_request', error_description: description };
      return;
    }
    const { t } = languageOf(ctx);
    await ctx.render('error', {
      title: t('error.protocolTitle'),
      message: t('error.postNotEnabled'),
      code: 'method_not_allowed',
      description,
    });
  };
}

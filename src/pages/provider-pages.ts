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
};

/** These pages are rendered by oidc-provider, which has parsed the request's ui_locales (if any). */
function pageLanguage(ctx: KoaContextWithOIDC) {
  useUiLocales(ctx, ctx.oidc?.params?.ui_locales);
  return languageOf(ctx);
}

/**
 * Error page for protocol errors that cannot be returned to the client (unknown client, unregistered
 * redirect_uri, ...). Never redirects and never shows internals; the protocol error code and
 * description are shown because they help the application's developer.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#rendererror
 */
export const renderError: RenderError = async (ctx, out) => {
  const { t } = pageLanguage(ctx);
  const error = typeof out.error === 'string' ? out.error : 'server_error';
  const description = error === 'server_error' ? undefined : out.error_description;
  const key = FRIENDLY[error];
  await ctx.render('error', {
    title: t('error.protocolTitle'),
    message: key ? t(key) : t('error.generic'),
    code: error,
    description,
  });
};

/**
 * Confirmation page for RP-initiated logout; `form` is oidc-provider's hidden form with its xsrf
 * token. A request without a verified id_token_hint could be a forced-logout attempt by any site, so
 * the person confirms (ASVS 5.0 10.6.2). With a hint (oidc-provider has already verified it, or the
 * request would have failed) the page submits itself through a same-origin script; without
 * JavaScript it stays a one-click confirmation.
 */
export const logoutSource: LogoutFeature['logoutSource'] = async (ctx: KoaContextWithOIDC, form: string) => {
  const { t } = pageLanguage(ctx);
  const client = ctx.oidc.client;
  const verified = typeof ctx.oidc.params?.id_token_hint === 'string';
  await ctx.render('logout', { title: t('logout.title'), form, clientName: client?.clientName, verified });
};

export const postLogoutSuccessSource: LogoutFeature['postLogoutSuccessSource'] = async (ctx: KoaContextWithOIDC) => {
  const { t } = pageLanguage(ctx);
  const client = ctx.oidc.client;
  await ctx.render('logged-out', { title: t('loggedOut.title'), clientName: client?.clientName, clientUri: client?.clientUri });
};

/** Everything oidc-provider renders itself, for createProvider. */
export const providerPages = { renderError, logoutSource, postLogoutSuccessSource };

import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';

type RenderError = NonNullable<Configuration['renderError']>;
type LogoutFeature = NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']>;

/** Friendly text for protocol errors a person may land on; anything else gets a generic line. */
const FRIENDLY: Record<string, string> = {
  invalid_client: 'The application that sent you here is not registered with this sign-in service.',
  invalid_redirect_uri:
    'The application asked to send you back to an address it has not registered, so this sign-in was stopped to protect you.',
  invalid_request: 'The sign-in request from the application was not valid.',
  server_error: 'Something went wrong on our side. Please try again in a moment.',
};

/**
 * Error page for protocol errors that cannot be returned to the client (unknown client, unregistered
 * redirect_uri, ...). Never redirects and never shows internals; the protocol error code and
 * description are shown because they help the application's developer.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#rendererror
 */
export const renderError: RenderError = async (ctx, out) => {
  const error = typeof out.error === 'string' ? out.error : 'server_error';
  const description = error === 'server_error' ? undefined : out.error_description;
  await ctx.render('error', {
    title: 'Sign-in could not continue',
    message: FRIENDLY[error] ?? 'This sign-in request could not be completed.',
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
  const client = ctx.oidc.client;
  const verified = typeof ctx.oidc.params?.id_token_hint === 'string';
  await ctx.render('logout', { title: 'Sign out', form, clientName: client?.clientName, verified });
};

export const postLogoutSuccessSource: LogoutFeature['postLogoutSuccessSource'] = async (ctx: KoaContextWithOIDC) => {
  const client = ctx.oidc.client;
  await ctx.render('logged-out', { title: 'Signed out', clientName: client?.clientName, clientUri: client?.clientUri });
};

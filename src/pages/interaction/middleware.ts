import type { Middleware, ParameterizedContext } from 'koa';
import { errors, type Provider } from 'oidc-provider';
import type { Csrf } from '../../http/csrf.ts';
import { refuseForgedForm } from '../../http/forms.ts';
import { languageOf, useUiLocales } from '../../http/locale.ts';
import { noteRequest } from '../../logging/request-scope.ts';

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;
export type Client = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

export interface InteractionState {
  interaction: Interaction;
  client: Client;
  csrfToken: string;
  [key: string]: unknown;
}

export type InteractionContext = ParameterizedContext<InteractionState, { params: Record<string, string> }>;
export type InteractionMiddleware = Middleware<InteractionState, { params: Record<string, string> }>;

export { formField, parseForm } from '../../http/forms.ts';

/**
 * Loads the interaction behind the path-scoped interaction cookie and its client. A uid in the URL
 * that is not the browser's own interaction is treated as an expired one.
 */
export function loadInteraction(provider: Provider, csrf: Csrf): InteractionMiddleware {
  return async function loadInteractionDetails(ctx, next) {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction uid mismatch');
    const client = await provider.Client.find(String(interaction.params.client_id));
    if (!client) throw new errors.SessionNotFound('client no longer exists');
    ctx.state.interaction = interaction;
    useUiLocales(ctx, interaction.params.ui_locales);
    ctx.state.client = client;
    noteRequest({ clientId: client.clientId, accountId: interaction.session?.accountId });
    ctx.state.csrfToken = csrf.issue(interaction.uid);
    await next();
  };
}

/** Refuses a POST whose CSRF token does not belong to this interaction (or that is cross-site). */
export function verifyCsrf(csrf: Csrf): InteractionMiddleware {
  return async function verifyCsrfToken(ctx, next) {
    if (await refuseForgedForm(ctx, csrf, ctx.state.interaction.uid, 'form.expiredInteraction')) return;
    await next();
  };
}

/** An expired, finished or foreign interaction gets a page saying so, with a way back. */
export const handleInteractionErrors: InteractionMiddleware = async function handleInteractionErrors(ctx, next) {
  try {
    await next();
  } catch (error) {
    if (!(error instanceof errors.SessionNotFound)) throw error;
    ctx.status = 400;
    const { t } = languageOf(ctx);
    await ctx.render('error', {
      title: t('error.interactionExpiredTitle'),
      message: t('error.interactionExpired'),
      code: 'interaction_expired',
      showHomeLink: true,
    });
  }
};

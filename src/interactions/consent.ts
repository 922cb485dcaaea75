import type { Provider } from 'oidc-provider';
import type { InteractionContext, InteractionMiddleware } from './middleware.ts';

/** Plain words for each scope on the consent page. */
const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Confirm who you are when you sign in',
  profile: 'See your username',
  email: 'See your email address and whether it is verified',
  offline_access: 'Stay connected while you are not using it',
};

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export async function renderConsent(ctx: InteractionContext): Promise<void> {
  const { interaction, client } = ctx.state;
  const scopes = stringList(interaction.prompt.details.missingOIDCScope);
  await ctx.render('consent', {
    title: 'Allow access',
    uid: interaction.uid,
    clientName: client.clientName ?? client.clientId,
    clientUri: client.clientUri,
    logoUri: client.logoUri,
    scopes: scopes.map((scope) => ({ scope, description: SCOPE_DESCRIPTIONS[scope] ?? scope })),
    claims: stringList(interaction.prompt.details.missingOIDCClaims),
    resources: Object.entries((interaction.prompt.details.missingResourceScopes ?? {}) as Record<string, unknown>).map(([indicator, scopes]) => ({
      indicator,
      scopes: stringList(scopes),
    })),
  });
}

/**
 * Records the person's consent as a Grant holding what the client asked for, then lets the
 * authorization continue.
 */
export function submitConsent(provider: Provider): InteractionMiddleware {
  return async function submitConsentForm(ctx) {
    const { interaction } = ctx.state;
    if (interaction.prompt.name !== 'consent' || !interaction.session) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const { details } = interaction.prompt;
    const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
    const grant =
      existing ?? new provider.Grant({ accountId: interaction.session.accountId, clientId: String(interaction.params.client_id) });
    const scopes = stringList(details.missingOIDCScope);
    if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
    const claims = stringList(details.missingOIDCClaims);
    if (claims.length > 0) grant.addOIDCClaims(claims);
    const resourceScopes = details.missingResourceScopes;
    if (resourceScopes && typeof resourceScopes === 'object') {
      for (const [indicator, values] of Object.entries(resourceScopes)) {
        grant.addResourceScope(indicator, stringList(values).join(' '));
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };
}

/** "Deny" on consent, or "Cancel" on the sign-in pages: the app receives access_denied. */
export function abortInteraction(provider: Provider): InteractionMiddleware {
  return async function abortInteractionForm(ctx) {
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: 'End-User aborted interaction' },
      { mergeWithLastSubmission: false },
    );
  };
}

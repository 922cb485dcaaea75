import type { Provider } from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import { languageOf } from '../../http/locale.ts';
import { describeScope, localized } from '../../i18n/scopes.ts';
import type { UserService } from '../../users/user-service.ts';
import type { InteractionContext, InteractionMiddleware } from './middleware.ts';

/** The host of the client's home page, as the link text: people see where it leads. */
function hostOf(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  try {
    return new URL(uri).host;
  } catch {
    return uri;
  }
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * The consent page. An API (resource indicator) is shown by the name and scope descriptions the
 * operator configured in IDP_RESOURCES, in the page language; without them, by its URL and scope names.
 */
export async function renderConsent(
  ctx: InteractionContext,
  userService: UserService,
  apis: Config['resources'],
  claimScopes: Config['claimScopes'] = {},
): Promise<void> {
  const { interaction, client } = ctx.state;
  const { t, locale } = languageOf(ctx);
  const scopes = stringList(interaction.prompt.details.missingOIDCScope);
  const accountId = interaction.session?.accountId;
  const user = accountId ? await userService.findById(accountId) : undefined;
  await ctx.render('consent', {
    title: t('consent.title'),
    uid: interaction.uid,
    clientName: client.clientName ?? client.clientId,
    clientUri: client.clientUri,
    clientHost: hostOf(client.clientUri),
    policyUri: client.policyUri,
    tosUri: client.tosUri,
    logoUri: client.logoUri,
    username: user?.username,
    scopes: scopes.map((scope) => ({ scope, description: describeScope(t, scope, claimScopes) })),
    claims: stringList(interaction.prompt.details.missingOIDCClaims),
    resources: Object.entries((interaction.prompt.details.missingResourceScopes ?? {}) as Record<string, unknown>).map(
      ([indicator, scopes]) => {
        const api = apis.find((candidate) => candidate.indicator === indicator);
        return {
          name: localized(api?.name, locale) ?? indicator,
          scopes: stringList(scopes).map((scope) => localized(api?.scopeDescriptions?.[scope], locale) ?? scope),
        };
      },
    ),
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

/**
 * "Deny" on consent, or "Cancel" on the sign-in pages: the app receives access_denied (RFC 6749
 * §4.1.2.1), with a description for its developer that says which of the two happened (the
 * library's default, "End-User aborted interaction", says neither).
 */
export function abortInteraction(provider: Provider): InteractionMiddleware {
  return async function abortInteractionForm(ctx) {
    const denied = ctx.state.interaction.prompt.name === 'consent';
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      {
        error: 'access_denied',
        error_description: denied ? 'the user denied the app access on the consent page' : 'the user cancelled the sign-in',
      },
      { mergeWithLastSubmission: false },
    );
  };
}

import { languageOf } from '../../http/locale.ts';
import { type Message, message } from '../../i18n/translate.ts';
import type { UserRecord } from '../../storage/ports.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';
import {
  completeSignIn,
  hasSecondFactor,
  maySetUpFactor,
  pendingSecondStep,
  type SignInDeps,
  secondFactorLogin,
  secondStepUser,
} from './second-step.ts';

/** Base32 in groups of four, as people copy it into an app by hand. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * The set-up of a second factor for someone who must have one and has none (IDP_MFA, the client or
 * the request requires it): an authenticator app (QR code and the key as text), or a passkey.
 */
export async function renderSetup(
  ctx: InteractionContext,
  deps: SignInDeps,
  user: UserRecord,
  page: { status?: number; codeError?: Message } = {},
): Promise<void> {
  const { t } = languageOf(ctx);
  const { interaction, client } = ctx.state;
  const clientName = client.clientName ?? client.clientId;
  // The secret is this interaction's own: no other sign-in or page ever shows it (or confirms it).
  const setup = deps.secondFactors.available ? await deps.secondFactors.beginTotpSetup(user, interaction.uid) : undefined;
  ctx.status = page.status ?? 200;
  await ctx.render('mfa-setup', {
    title: t('setup.title'),
    lead: t('setup.required', { client: clientName }),
    available: setup !== undefined,
    qrCode: setup?.qrCode,
    secret: setup && groupSecret(setup.secret),
    action: `/interaction/${interaction.uid}/mfa/setup`,
    passkeyAction: `/interaction/${interaction.uid}/passkey/register`,
    uid: interaction.uid,
    clientName,
    codeError: page.codeError ? t(page.codeError.key, page.codeError.params) : undefined,
  });
}

/**
 * Confirms the authenticator app with one code, shows the recovery codes once, and then the sign-in
 * goes on at level 2. Only for someone with no second factor yet, who gave the password in this
 * interaction: a person who has one must use it, never replace it here (that would step around it).
 * Level 2 here proves the password and possession of the app just bound, not more (see the README,
 * "What acr 2 proves"); the owner is emailed, and older sign-ins of the account no longer count.
 */
export function submitSetup(deps: SignInDeps): InteractionMiddleware {
  return async function submitSetupForm(ctx) {
    const { interaction } = ctx.state;
    const pending = pendingSecondStep(interaction);
    const user = pending && (await secondStepUser(deps, pending));
    if (
      !pending ||
      !user ||
      !maySetUpFactor(pending) ||
      !deps.secondFactors.available ||
      hasSecondFactor(await deps.secondFactors.status(user))
    ) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const result = await deps.secondFactors.confirmTotpSetup(user, interaction.uid, formField(ctx, 'code'));
    if (!result.ok) {
      await renderSetup(ctx, deps, user, { status: 400, codeError: message('setup.invalid') });
      return;
    }
    const login = await secondFactorLogin(deps, pending, ['otp']);
    await deps.factorChanges.changed(user, 'totp_enabled', {
      locale: languageOf(ctx).locale,
      since: new Date(login.ts * 1000),
      duringSignIn: true,
    });
    const saved = await completeSignIn(ctx, deps, login);
    await deps.provider.interactionResult(ctx.req, ctx.res, { login: saved }, { mergeWithLastSubmission: false });
    await ctx.render('recovery-codes', {
      title: languageOf(ctx).t('recovery.title'),
      codes: result.recoveryCodes,
      continueAction: `/interaction/${interaction.uid}/continue`,
    });
  };
}

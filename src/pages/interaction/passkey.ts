import { languageOf } from '../../http/locale.ts';
import { message } from '../../i18n/translate.ts';
import { ACR_MFA } from '../../oidc/configuration/claims.ts';
import type { UserRecord } from '../../storage/ports.ts';
import type { EmailVerification } from '../../users/email-verification.ts';
import { passkeyMethods } from '../../users/mfa/passkeys.ts';
import { renderLogin } from './login.ts';
import { renderSecondStep } from './mfa.ts';
import { renderSetup } from './mfa-setup.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';
import {
  finishedLogin,
  finishSignIn,
  hasSecondFactor,
  methods,
  type PendingSecondStep,
  pendingSecondStep,
  type SignInDeps,
  secondFactorLogin,
  secondStepUser,
} from './second-step.ts';

export interface PasskeyDeps extends SignInDeps {
  verification: EmailVerification;
  requireVerifiedEmail: boolean;
}

const FAILED = message('passkey.failed');

/**
 * The options of a passkey ceremony, as JSON for assets/passkeys.js: any passkey of this site for a
 * sign-in (discoverable, so no username is asked), or only the person's own for a second step.
 */
export function passkeyOptions(deps: SignInDeps): InteractionMiddleware {
  return async function passkeyRequestOptions(ctx) {
    const { interaction } = ctx.state;
    if (finishedLogin(interaction)) {
      ctx.status = 409;
      ctx.body = { error: 'already signed in' };
      return;
    }
    const pending = pendingSecondStep(interaction);
    ctx.body = await deps.passkeys.authenticationOptions(interaction.uid, pending?.accountId);
  };
}

/**
 * A passkey's answer. Without a pending second step it is a sign-in by itself (level 2: possession and
 * the device's user verification); as a second step it must be one of that person's passkeys.
 */
export function submitPasskey(deps: PasskeyDeps): InteractionMiddleware {
  return async function submitPasskeyForm(ctx) {
    const { interaction } = ctx.state;
    if (interaction.prompt.name !== 'login' || finishedLogin(interaction)) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const pending = pendingSecondStep(interaction);
    const result = await deps.passkeys.authenticate(interaction.uid, formField(ctx, 'response'), pending?.accountId);
    if (!result.ok) {
      if (pending) {
        await deps.events.record('login.second_factor_failed', {
          accountId: pending.accountId,
          details: { method: 'passkey', reason: result.reason },
        });
      } else await deps.events.record('login.failed', { details: { method: 'passkey', reason: result.reason } });
      if (pending) await renderSecondStep(ctx, deps, pending, { status: 401, error: FAILED });
      else await renderLogin(ctx, { status: 401, error: FAILED });
      return;
    }
    if (pending) {
      await finishSignIn(ctx, deps, await secondFactorLogin(deps, pending, result.amr), { offerPasskey: false });
      return;
    }
    if (!(await mayEnter(ctx, deps, result.user))) return;
    const login = {
      accountId: result.user.id,
      acr: ACR_MFA,
      amr: methods(result.amr, ['mfa']),
      remember: formField(ctx, 'remember') === 'on',
    };
    await finishSignIn(ctx, deps, login, { offerPasskey: false });
  };
}

/** The same account checks as after a password: disabled accounts, and unverified email where required. */
async function mayEnter(ctx: InteractionContext, deps: PasskeyDeps, user: UserRecord): Promise<boolean> {
  if (!user.active) {
    await renderLogin(ctx, { status: 401, error: message('auth.disabled') });
    return false;
  }
  if (deps.requireVerifiedEmail && !user.emailVerified) {
    await deps.verification.send(user, { locale: languageOf(ctx).locale, ip: ctx.ip }).catch((error: unknown) => {
      deps.logger.error({ event: 'mail.failed', err: error, userId: user.id }, 'verification email not sent');
    });
    await renderLogin(ctx, { status: 403, error: message('auth.unverified') });
    return false;
  }
  return true;
}

/**
 * Who may add a passkey inside this interaction: a person who has finished signing in (the offer
 * after sign-in), or one who must set up a second factor and has none yet. Nobody else: someone who
 * owes a second step must give it, not add a new factor in its place.
 */
async function registrant(
  ctx: InteractionContext,
  deps: SignInDeps,
): Promise<{ user: UserRecord; pending?: PendingSecondStep | undefined } | undefined> {
  const { interaction } = ctx.state;
  const finished = finishedLogin(interaction);
  if (finished) {
    const user = await deps.userService.findById(finished.accountId);
    return user?.active ? { user } : undefined;
  }
  const pending = pendingSecondStep(interaction);
  if (!pending) return undefined;
  const user = await secondStepUser(deps, pending);
  return hasSecondFactor(await deps.secondFactors.status(user)) ? undefined : { user, pending };
}

export function passkeyRegisterOptions(deps: SignInDeps): InteractionMiddleware {
  return async function passkeyCreationOptions(ctx) {
    const who = deps.passkeys.available ? await registrant(ctx, deps) : undefined;
    if (!who) {
      ctx.status = 403;
      ctx.body = { error: 'no passkey can be added here' };
      return;
    }
    ctx.body = await deps.passkeys.registrationOptions(who.user, ctx.state.interaction.uid);
  };
}

/** A new passkey: after the offer the sign-in continues; in a set-up it is the second factor (level 2). */
export function submitPasskeyRegister(deps: SignInDeps): InteractionMiddleware {
  return async function submitPasskeyRegisterForm(ctx) {
    const { interaction } = ctx.state;
    const who = await registrant(ctx, deps);
    if (!who) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    const passkey = await deps.passkeys.register(who.user, interaction.uid, formField(ctx, 'response'), '');
    if (passkey) await deps.events.record('passkey.added', { accountId: who.user.id, details: { name: passkey.name } });
    const { t } = languageOf(ctx);
    if (!who.pending) {
      if (!passkey) {
        ctx.status = 400;
        await ctx.render('passkey-offer', { title: t('passkey.offerTitle'), uid: interaction.uid, error: t('passkey.addFailed') });
        return;
      }
      await deps.provider.interactionFinished(ctx.req, ctx.res, interaction.result ?? {}, { mergeWithLastSubmission: false });
      return;
    }
    if (!passkey) {
      await renderSetup(ctx, deps, who.user, { status: 400 });
      return;
    }
    await finishSignIn(ctx, deps, await secondFactorLogin(deps, who.pending, passkeyMethods(passkey)), { offerPasskey: false });
  };
}

/** "Continue" after a page shown between the sign-in and the app (recovery codes, the passkey offer). */
export function continueSignIn(deps: Pick<SignInDeps, 'provider'>): InteractionMiddleware {
  return async function continueAfterSignIn(ctx) {
    const { interaction } = ctx.state;
    if (!finishedLogin(interaction)) {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }
    await deps.provider.interactionFinished(ctx.req, ctx.res, interaction.result ?? {}, { mergeWithLastSubmission: false });
  };
}

import { languageOf } from '../../http/locale.ts';
import { type Message, message } from '../../i18n/translate.ts';
import { CODE_FAILURE_LIMIT } from '../../users/mfa/code-failures.ts';
import type { CodeMethod } from '../../users/mfa/second-factors.ts';
import { renderLogin } from './login.ts';
import { renderSetup } from './mfa-setup.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';
import {
  completeSignIn,
  finishSignIn,
  hasSecondFactor,
  maySetUpFactor,
  type PendingSecondStep,
  pendingSecondStep,
  type SignInDeps,
  secondFactorLogin,
  secondStepUser,
} from './second-step.ts';

interface SecondStepPage {
  status?: number;
  /** About the request as a whole (the throttle). */
  error?: Message;
  codeError?: Message;
  recoveryError?: Message;
}

/** Why the second step is asked, in the page's words: the app's own requirement, or the person's setting. */
function lead(ctx: InteractionContext, pending: PendingSecondStep): string {
  const { t } = languageOf(ctx);
  const { client } = ctx.state;
  return pending.stepUpSession ? t('mfa.leadStepUp', { client: client.clientName ?? client.clientId }) : t('mfa.lead');
}

/**
 * The second step's page: the person's own methods (app code, passkey, recovery code), or their
 * set-up. A session stepping up for an account with no factor is asked for the password first: a
 * session cookie alone never sets up a factor (see maySetUpFactor).
 */
export async function renderSecondStep(
  ctx: InteractionContext,
  deps: SignInDeps,
  pending: PendingSecondStep,
  page: SecondStepPage = {},
): Promise<void> {
  const user = await secondStepUser(deps, pending);
  const status = await deps.secondFactors.status(user);
  if (!hasSecondFactor(status)) {
    if (maySetUpFactor(pending)) await renderSetup(ctx, deps, user);
    else await renderLogin(ctx, { login: user.username });
    return;
  }
  const { t } = languageOf(ctx);
  const text = (value: Message | undefined) => (value ? t(value.key, value.params) : undefined);
  ctx.status = page.status ?? 200;
  await ctx.render('mfa', {
    title: t('mfa.title'),
    uid: ctx.state.interaction.uid,
    clientName: ctx.state.client.clientName ?? ctx.state.client.clientId,
    lead: lead(ctx, pending),
    totp: status.totp && !status.totpBlocked,
    // Said only here, after the password: the sign-in page never tells whether an account's app is blocked.
    totpBlocked: status.totpBlocked ? t('mfa.blocked') : undefined,
    passkeys: status.passkeys > 0,
    recoveryCodes: status.recoveryCodes > 0,
    recoveryOpen: page.recoveryError !== undefined,
    error: text(page.error),
    codeError: text(page.codeError),
    recoveryError: text(page.recoveryError),
  });
}

const ERRORS: Record<CodeMethod, Record<'invalid' | 'replayed', Message>> = {
  totp: { invalid: message('mfa.invalid'), replayed: message('mfa.replayed') },
  recovery: { invalid: message('mfa.recoveryInvalid'), replayed: message('mfa.recoveryInvalid') },
};

/**
 * A code from the authenticator app or a recovery code. The attempt is counted before the code is
 * looked at (per account and per address, in the shared store), and a right code finishes the
 * sign-in at level 2. A recovery code's page says how many remain.
 */
export function submitSecondStep(deps: SignInDeps): InteractionMiddleware {
  return async function submitSecondStepForm(ctx) {
    const pending = pendingSecondStep(ctx.state.interaction);
    if (!pending) {
      ctx.redirect(`/interaction/${ctx.state.interaction.uid}`);
      return;
    }
    const user = await secondStepUser(deps, pending);
    const method: CodeMethod = formField(ctx, 'method') === 'recovery' ? 'recovery' : 'totp';
    const result = await deps.secondFactors.verify(user, method, formField(ctx, 'code'), { ip: ctx.ip, locale: languageOf(ctx).locale });
    if (!result.ok) {
      if (result.reason === 'throttled') {
        await deps.events.record('login.throttled', {
          accountId: user.id,
          details: { scope: 'second_factor', method, retryAfter: result.retryAfterSeconds },
        });
        ctx.set('Retry-After', String(result.retryAfterSeconds));
        await renderSecondStep(ctx, deps, pending, { status: 429, error: message('mfa.throttled', { seconds: result.retryAfterSeconds }) });
        return;
      }
      await deps.events.record('login.second_factor_failed', { accountId: user.id, details: { method, reason: result.reason } });
      if (result.reason === 'blocked') {
        await renderSecondStep(ctx, deps, pending, { status: 403 });
        return;
      }
      if (result.inARow === CODE_FAILURE_LIMIT && user.factors.totp) {
        await deps.events.record('mfa.totp_blocked', { accountId: user.id, details: { inARow: result.inARow } });
      }
      const error = ERRORS[method][result.reason];
      await renderSecondStep(ctx, deps, pending, { status: 401, ...(method === 'totp' ? { codeError: error } : { recoveryError: error }) });
      return;
    }
    // RFC 8176 has no value of its own for look-up secrets: a recovery code is a one-time password too.
    const login = await secondFactorLogin(deps, pending, ['otp']);
    if (result.method === 'totp') {
      const status = await deps.secondFactors.status(user);
      await finishSignIn(ctx, deps, login, { offerPasskey: pending.passkeyCapable && status.passkeys === 0 });
      return;
    }
    await deps.events.record('mfa.recovery_code_used', { accountId: user.id, details: { remaining: result.remaining } });
    const saved = await completeSignIn(ctx, deps, login);
    await deps.provider.interactionResult(ctx.req, ctx.res, { login: saved }, { mergeWithLastSubmission: false });
    const { t } = languageOf(ctx);
    await ctx.render('continue', {
      title: t('mfa.recoveryUsedTitle'),
      uid: ctx.state.interaction.uid,
      message: t(result.remaining === 1 ? 'mfa.recoveryRemainingOne' : 'mfa.recoveryRemaining', { count: result.remaining }),
      hint: result.remaining <= 3 ? t('mfa.recoveryLow') : undefined,
    });
  };
}

import Router from '@koa/router';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { SecurityEvents } from '../../audit/security-events.ts';
import type { Config } from '../../config/schema.ts';
import type { Csrf } from '../../http/csrf.ts';
import { noStore } from '../../http/no-store.ts';
import type { EmailVerification } from '../../users/email-verification.ts';
import type { FactorChanges } from '../../users/mfa/factor-changes.ts';
import type { Passkeys } from '../../users/mfa/passkeys.ts';
import type { SecondFactors } from '../../users/mfa/second-factors.ts';
import type { PasswordReset } from '../../users/password-reset.ts';
import type { UserService } from '../../users/user-service.ts';
import { resendVerification } from './check-email.ts';
import { abortInteraction, renderConsent, submitConsent } from './consent.ts';
import { showForgot, submitForgot } from './forgot.ts';
import { renderLogin, submitLogin } from './login.ts';
import { renderSecondStep, submitSecondStep } from './mfa.ts';
import { submitSetup } from './mfa-setup.ts';
import {
  handleInteractionErrors,
  type InteractionMiddleware,
  type InteractionState,
  loadInteraction,
  parseForm,
  verifyCsrf,
} from './middleware.ts';
import { continueSignIn, passkeyOptions, passkeyRegisterOptions, submitPasskey, submitPasskeyRegister } from './passkey.ts';
import { showRegister, submitRegister } from './register.ts';
import { type FederationHook, finishedLogin, pendingSecondStep, type SignInDeps } from './second-step.ts';

export interface InteractionRouterDeps {
  provider: Provider;
  userService: UserService;
  verification: EmailVerification;
  passwordReset: PasswordReset;
  secondFactors: SecondFactors;
  passkeys: Passkeys;
  factorChanges: FactorChanges;
  requireVerifiedEmail: boolean;
  /** IDP_MFA: whether every sign-in needs a second factor. */
  mfaPolicy: Config['mfa'];
  csrf: Csrf;
  /** Registered APIs, for their names and scope descriptions on the consent page. */
  resources: Config['resources'];
  /** Which scope releases which extra claim, named on the consent page. */
  claimScopes?: Config['claimScopes'];
  logger: Logger;
  events: SecurityEvents;
  /** Sign-ins through upstream identity providers: told when one finishes (after a second step too). */
  federation?: FederationHook | undefined;
}

/**
 * The pages oidc-provider sends people to (interactions.url). They live under /interaction/:uid
 * because the interaction cookie is scoped to that path. The login prompt's page is the password
 * (or passkey) form, then, when one is owed, the second step; once the sign-in is finished, the
 * interaction only continues to the app.
 */
export function createInteractionRouter(deps: InteractionRouterDeps): Router<InteractionState> {
  const { provider, userService, verification, passwordReset, requireVerifiedEmail, csrf, resources, logger, events } = deps;
  const router = new Router<InteractionState>({ prefix: '/interaction' });
  const load = loadInteraction(provider, csrf);
  const checkCsrf = verifyCsrf(csrf);
  const log = logger.child({ module: 'interactions' });
  const signIn: SignInDeps = {
    provider,
    userService,
    secondFactors: deps.secondFactors,
    passkeys: deps.passkeys,
    mfaPolicy: deps.mfaPolicy,
    logger: log,
    events,
    factorChanges: deps.factorChanges,
    federation: deps.federation,
  };
  const withAccountRules = { ...signIn, verification, requireVerifiedEmail };

  const showPrompt: InteractionMiddleware = async function showPrompt(ctx) {
    const { interaction } = ctx.state;
    const { prompt } = interaction;
    if (prompt.name === 'login') {
      const pending = pendingSecondStep(interaction);
      if (finishedLogin(interaction))
        await provider.interactionFinished(ctx.req, ctx.res, interaction.result ?? {}, { mergeWithLastSubmission: false });
      else if (pending) await renderSecondStep(ctx, signIn, pending);
      else await renderLogin(ctx);
    } else if (prompt.name === 'consent') await renderConsent(ctx, userService, resources, deps.claimScopes);
    else throw new Error(`unsupported prompt ${prompt.name}`);
  };

  router.use(noStore, handleInteractionErrors);
  router.get('/:uid', load, showPrompt);
  router.post('/:uid/login', parseForm, load, checkCsrf, submitLogin(withAccountRules));
  router.post('/:uid/mfa', parseForm, load, checkCsrf, submitSecondStep(signIn));
  router.post('/:uid/mfa/setup', parseForm, load, checkCsrf, submitSetup(signIn));
  router.post('/:uid/passkey/options', parseForm, load, checkCsrf, passkeyOptions(signIn));
  router.post('/:uid/passkey', parseForm, load, checkCsrf, submitPasskey(withAccountRules));
  router.post('/:uid/passkey/register/options', parseForm, load, checkCsrf, passkeyRegisterOptions(signIn));
  router.post('/:uid/passkey/register', parseForm, load, checkCsrf, submitPasskeyRegister(signIn));
  router.post('/:uid/continue', parseForm, load, checkCsrf, continueSignIn(signIn));
  router.get('/:uid/register', load, showRegister(userService));
  router.post('/:uid/register', parseForm, load, checkCsrf, submitRegister({ ...withAccountRules, csrf }));
  router.post('/:uid/resend', parseForm, load, checkCsrf, resendVerification({ userService, verification, csrf, logger: log }));
  router.get('/:uid/forgot', load, showForgot());
  router.post('/:uid/forgot', parseForm, load, checkCsrf, submitForgot(passwordReset));
  router.post('/:uid/confirm', parseForm, load, checkCsrf, submitConsent(provider));
  router.post('/:uid/abort', parseForm, load, checkCsrf, abortInteraction(provider));
  return router;
}

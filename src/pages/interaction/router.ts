import Router from '@koa/router';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.ts';
import type { Csrf } from '../../http/csrf.ts';
import { noStore } from '../../http/no-store.ts';
import type { SignInResult } from '../../observability/metrics.ts';
import type { EmailVerification } from '../../users/email-verification.ts';
import type { PasswordReset } from '../../users/password-reset.ts';
import type { UserService } from '../../users/user-service.ts';
import { resendVerification } from './check-email.ts';
import { abortInteraction, renderConsent, submitConsent } from './consent.ts';
import { showForgot, submitForgot } from './forgot.ts';
import { renderLogin, submitLogin } from './login.ts';
import {
  handleInteractionErrors,
  type InteractionMiddleware,
  type InteractionState,
  loadInteraction,
  parseForm,
  verifyCsrf,
} from './middleware.ts';
import { showRegister, submitRegister } from './register.ts';

export interface InteractionRouterDeps {
  provider: Provider;
  userService: UserService;
  verification: EmailVerification;
  passwordReset: PasswordReset;
  requireVerifiedEmail: boolean;
  csrf: Csrf;
  /** Registered APIs, for their names and scope descriptions on the consent page. */
  resources: Config['resources'];
  /** Which scope releases which extra claim, named on the consent page. */
  claimScopes?: Config['claimScopes'];
  logger: Logger;
  /** Told the result of every sign-in attempt (the metrics count them). */
  onSignIn?: ((result: SignInResult) => void) | undefined;
}

/**
 * The pages oidc-provider sends people to (interactions.url). They live under /interaction/:uid
 * because the interaction cookie is scoped to that path.
 */
export function createInteractionRouter(deps: InteractionRouterDeps): Router<InteractionState> {
  const { provider, userService, verification, passwordReset, requireVerifiedEmail, csrf, resources, logger, onSignIn } = deps;
  const router = new Router<InteractionState>({ prefix: '/interaction' });
  const load = loadInteraction(provider, csrf);
  const checkCsrf = verifyCsrf(csrf);
  const log = logger.child({ module: 'interactions' });

  const showPrompt: InteractionMiddleware = async function showPrompt(ctx) {
    const { prompt } = ctx.state.interaction;
    if (prompt.name === 'login') await renderLogin(ctx);
    else if (prompt.name === 'consent') await renderConsent(ctx, userService, resources, deps.claimScopes);
    else throw new Error(`unsupported prompt ${prompt.name}`);
  };

  router.use(noStore, handleInteractionErrors);
  router.get('/:uid', load, showPrompt);
  router.post(
    '/:uid/login',
    parseForm,
    load,
    checkCsrf,
    submitLogin({ provider, userService, verification, requireVerifiedEmail, logger: log, onSignIn }),
  );
  router.get('/:uid/register', load, showRegister(userService));
  router.post(
    '/:uid/register',
    parseForm,
    load,
    checkCsrf,
    submitRegister({ provider, userService, verification, requireVerifiedEmail, csrf, logger: log }),
  );
  router.post('/:uid/resend', parseForm, load, checkCsrf, resendVerification({ userService, verification, csrf, logger: log }));
  router.get('/:uid/forgot', load, showForgot());
  router.post('/:uid/forgot', parseForm, load, checkCsrf, submitForgot(passwordReset));
  router.post('/:uid/confirm', parseForm, load, checkCsrf, submitConsent(provider));
  router.post('/:uid/abort', parseForm, load, checkCsrf, abortInteraction(provider));
  return router;
}

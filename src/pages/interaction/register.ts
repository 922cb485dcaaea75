import type { Csrf } from '../../http/csrf.ts';
import { setFlash } from '../../http/flash.ts';
import { languageOf } from '../../http/locale.ts';
import { type Message, message, translateFields } from '../../i18n/translate.ts';
import type { EmailVerification } from '../../users/email-verification.ts';
import type { FieldErrors, RegistrationField } from '../../users/registration-form.ts';
import type { UserService } from '../../users/user-service.ts';
import { renderCheckEmail } from './check-email.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';
import { afterPassword, type SignInDeps } from './second-step.ts';

interface RegisterPage {
  status?: number;
  errors?: FieldErrors<RegistrationField>;
  /** A problem with the request as a whole (the rate limit), above the form. */
  error?: Message;
  values?: { username: string; email: string };
}

async function renderRegister(ctx: InteractionContext, userService: UserService, page: RegisterPage = {}): Promise<void> {
  const { interaction, client } = ctx.state;
  const { t } = languageOf(ctx);
  ctx.status = page.status ?? 200;
  await ctx.render('register', {
    title: t('register.title'),
    uid: interaction.uid,
    clientName: client.clientName ?? client.clientId,
    errors: translateFields(t, page.errors ?? {}),
    error: page.error ? t(page.error.key, page.error.params) : undefined,
    passwordMinLength: userService.passwordPolicy.minLength,
    values: page.values ?? { username: '', email: '' },
  });
}

/** Registration belongs to the login step; once signed in, the interaction moves on. */
function atLoginStep(ctx: InteractionContext): boolean {
  if (ctx.state.interaction.prompt.name === 'login') return true;
  ctx.redirect(`/interaction/${ctx.state.interaction.uid}`);
  return false;
}

export function showRegister(userService: UserService): InteractionMiddleware {
  return async function showRegisterPage(ctx) {
    if (atLoginStep(ctx)) await renderRegister(ctx, userService);
  };
}

export interface RegisterDeps extends SignInDeps {
  verification: EmailVerification;
  requireVerifiedEmail: boolean;
  /** Binds the "send the link again" button of "check your email" to this sign-in and account. */
  csrf: Csrf;
}

export function submitRegister(deps: RegisterDeps): InteractionMiddleware {
  const { userService, verification, requireVerifiedEmail, csrf, logger } = deps;
  return async function submitRegisterForm(ctx) {
    if (!atLoginStep(ctx)) return;
    const result = await userService.register(ctx.request.body, ctx.ip);
    if (!result.ok) {
      // Keep what the person typed, except passwords.
      const values = { username: formField(ctx, 'username'), email: formField(ctx, 'email') };
      if (result.errors) {
        await renderRegister(ctx, userService, { status: 400, errors: result.errors, values });
        return;
      }
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      const error = message('register.tooMany', { minutes: Math.ceil(result.retryAfterSeconds / 60) });
      await renderRegister(ctx, userService, { status: 429, error, values });
      return;
    }
    // The account exists either way; a mail server that is down must not lose the registration.
    const { locale, t } = languageOf(ctx);
    // With a verified address required, the link leads back to this sign-in.
    const returnTo = requireVerifiedEmail ? `/interaction/${ctx.state.interaction.uid}` : undefined;
    await verification.send(result.user, { locale, ip: ctx.ip, returnTo }).catch((error: unknown) => {
      logger.error({ event: 'mail.failed', err: error, userId: result.user.id }, 'verification email not sent');
    });
    if (requireVerifiedEmail) {
      await renderCheckEmail(ctx, csrf, result.user);
      return;
    }
    // Signed in at once (after the set-up of a second factor where one is required); the
    // authorization continues to consent and back to the app.
    setFlash(ctx, { category: 'success', message: t('register.created', { username: result.user.username }) });
    await afterPassword(ctx, deps, result.user, { remember: false, passkeyCapable: formField(ctx, 'webauthn') === '1' });
  };
}

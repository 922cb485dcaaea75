import type { Logger } from 'pino';
import type { Csrf } from '../../http/csrf.ts';
import { languageOf } from '../../http/locale.ts';
import type { UserRecord } from '../../storage/ports.ts';
import type { EmailVerification } from '../../users/email-verification.ts';
import type { UserService } from '../../users/user-service.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';

/** Binds a resend button to this sign-in and this account, so it cannot be pointed at anyone else's address. */
const proofBinding = (uid: string, userId: string) => `resend:${uid}:${userId}`;

/**
 * "Check your email" after a registration that needs a verified address (IDP_REQUIRE_VERIFIED_EMAIL):
 * the link can be sent again from here, and "Back to sign in" returns to this sign-in, where the
 * person signs in once the address is verified (the link leads back here too).
 */
export async function renderCheckEmail(
  ctx: InteractionContext,
  csrf: Csrf,
  user: Pick<UserRecord, 'id' | 'email'>,
  notice?: { category: 'success' | 'info'; message: string },
): Promise<void> {
  const { t } = languageOf(ctx);
  const { uid } = ctx.state.interaction;
  await ctx.render('check-email', {
    title: t('forgot.sentTitle'),
    message: t('register.checkEmail', { email: user.email }),
    uid,
    userId: user.id,
    proof: csrf.issue(proofBinding(uid, user.id)),
    notice,
  });
}

export interface ResendDeps {
  userService: UserService;
  verification: EmailVerification;
  csrf: Csrf;
  logger: Logger;
}

/** Sends the verification link again (within the verification email limits), and says whether it did. */
export function resendVerification({ userService, verification, csrf, logger }: ResendDeps): InteractionMiddleware {
  return async function resendVerificationLink(ctx) {
    const { uid } = ctx.state.interaction;
    const userId = formField(ctx, 'user');
    const user = csrf.verify(proofBinding(uid, userId), formField(ctx, 'proof')) ? await userService.findById(userId) : undefined;
    if (!user || user.emailVerified) {
      ctx.redirect(`/interaction/${uid}`);
      return;
    }
    const { t, locale } = languageOf(ctx);
    const sent = await verification.send(user, { locale, ip: ctx.ip, returnTo: `/interaction/${uid}` }).catch((error: unknown) => {
      logger.error({ event: 'mail.failed', err: error, userId: user.id }, 'verification email not sent');
      return false;
    });
    await renderCheckEmail(
      ctx,
      csrf,
      user,
      sent
        ? { category: 'success', message: t('verify.resent', { email: user.email }) }
        : { category: 'info', message: t('verify.resendLimited', { email: user.email }) },
    );
  };
}

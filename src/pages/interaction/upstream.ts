import { setFlash } from '../../http/flash.ts';
import { languageOf } from '../../http/locale.ts';
import { type Message, message, translateFields } from '../../i18n/translate.ts';
import { noteRequest } from '../../logging/request-scope.ts';
import type { UserRecord } from '../../storage/ports.ts';
import type { UpstreamServices } from '../../upstreams/create-upstream-services.ts';
import type { NewAccountField } from '../../upstreams/federated-accounts.ts';
import type { PendingSignIn } from '../../upstreams/sign-in-attempts.ts';
import { UpstreamError } from '../../upstreams/upstream-error.ts';
import type { EmailVerification } from '../../users/email-verification.ts';
import type { FactorChanges } from '../../users/mfa/factor-changes.ts';
import type { FieldErrors } from '../../users/registration-form.ts';
import { TAKEN_MESSAGES, type UserService } from '../../users/user-service.ts';
import { clearPendingCookie, readPendingCookie, refuseTooManyStarts, renderUpstreamProblem, setStateCookie } from '../upstream-pages.ts';
import { renderLogin } from './login.ts';
import { formField, type InteractionContext, type InteractionMiddleware } from './middleware.ts';
import { afterFirstFactor, type FederationHook, type SignInDeps } from './second-step.ts';

export interface UpstreamPagesDeps extends SignInDeps {
  upstreams: UpstreamServices;
  verification: EmailVerification;
  requireVerifiedEmail: boolean;
}

/**
 * What happens as a sign-in whose first factor came through an upstream finishes, whichever page
 * finishes it (this one, or the second step's): the upstream is kept for the `idp` claim under the
 * sign-in's time, and a link the person asked for (by signing in to the account, then its second
 * factor) is made now, when the account is proved, and not before.
 */
export function createFederationHook(
  upstreams: UpstreamServices,
  userService: Pick<UserService, 'findById'>,
  factorChanges: FactorChanges,
): FederationHook {
  return {
    async signedIn(ctx, { accountId, ts }, federated) {
      await upstreams.logins.record(accountId, ts, federated.upstream);
      if (!federated.linkHandle) return;
      const pending = await upstreams.attempts.findPending(federated.linkHandle);
      await upstreams.attempts.dropPending(federated.linkHandle);
      clearPendingCookie(ctx, ctx.state.interaction.uid);
      const user = pending && pending.uid === ctx.state.interaction.uid ? await userService.findById(accountId) : undefined;
      if (!pending || !user) return;
      const linked = await upstreams.accounts.link(user, pending.identity);
      const { t, locale } = languageOf(ctx);
      const name = upstreams.nameOf(pending.identity.upstream, locale);
      // Made in this sign-in, once the account was proved: sign-ins before this one stop counting.
      if (linked.ok) await factorChanges.changed(user, 'upstream_linked', { locale, name, since: new Date(ts * 1000), duringSignIn: true });
      setFlash(
        ctx,
        linked.ok
          ? { category: 'success', message: t('upstream.linked', { name }) }
          : { category: 'error', message: t('upstream.linkTaken', { name }) },
      );
    },
  };
}

/**
 * The interaction's side of a sign-in through an upstream: "Continue with ..." leaves for the
 * upstream (start); its callback (src/pages/upstream-callback.ts) comes back to `continue`, which
 * signs in a linked account, or asks for a username for a new one (create), or, when an account has
 * the upstream's email, asks the person to sign in to it to link it (link). Every page ends the
 * interaction with interactionFinished, `amr` saying `fed` (RFC 8176 §2).
 */
export function createUpstreamPages(deps: UpstreamPagesDeps) {
  const { upstreams, userService, verification, requireVerifiedEmail, logger, events } = deps;

  /** The sign-in step is where these pages belong; once signed in, the interaction moves on. */
  const atLoginStep = (ctx: InteractionContext): boolean => {
    if (ctx.state.interaction.prompt.name === 'login') return true;
    ctx.redirect(`/interaction/${ctx.state.interaction.uid}`);
    return false;
  };

  /** The upstream sign-in this interaction is finishing, from its cookie; for this interaction only. */
  const pendingOf = async (ctx: InteractionContext): Promise<{ handle: string; pending: PendingSignIn } | undefined> => {
    const handle = readPendingCookie(ctx);
    const pending = handle ? await upstreams.attempts.findPending(handle) : undefined;
    return handle && pending && pending.uid === ctx.state.interaction.uid ? { handle, pending } : undefined;
  };

  const expired = async (ctx: InteractionContext) => {
    logger.warn({ event: 'upstream.pending_missing', uid: ctx.state.interaction.uid }, 'no upstream sign-in to continue');
    await renderUpstreamProblem(ctx, { problem: 'expired', status: 400, back: { to: 'interaction', uid: ctx.state.interaction.uid } });
  };

  const nameOf = (ctx: InteractionContext, upstream: string) => upstreams.nameOf(upstream, languageOf(ctx).locale);

  /**
   * The upstream (and, when linking, the password) was the first factor. `user` is refused when
   * disabled (whatever the upstream says) or, where verified email is required, unverified: the
   * sign-in page says why, as it does for a password. Otherwise the sign-in goes on as after a
   * password: finished at one factor (acr 1), or the account's second factor next (acr 2).
   * `link`: link the upstream once the sign-in is finished (the account proved, second factor too).
   */
  const finish = async (
    ctx: InteractionContext,
    handle: string,
    identity: PendingSignIn['identity'],
    user: UserRecord,
    { amr, link = false }: { amr: string[]; link?: boolean },
  ) => {
    const { uid } = ctx.state.interaction;
    noteRequest({ accountId: user.id });
    if (!link) {
      await upstreams.attempts.dropPending(handle);
      clearPendingCookie(ctx, uid);
    }
    if (!user.active) {
      await events.record('login.failed', { accountId: user.id, details: { reason: 'disabled', upstream: identity.upstream } });
      await renderLogin(ctx, { status: 403, error: message('auth.disabled') });
      return;
    }
    if (requireVerifiedEmail && !user.emailVerified) {
      await verification.send(user, { locale: languageOf(ctx).locale, ip: ctx.ip }).catch((error: unknown) => {
        logger.error({ event: 'mail.failed', err: error, userId: user.id }, 'verification email not sent');
      });
      await renderLogin(ctx, { status: 403, error: message('auth.unverified') });
      return;
    }
    // No "remember me" on the way through an upstream: the session lasts as long as the browser session.
    await afterFirstFactor(ctx, deps, user, {
      amr,
      remember: false,
      passkeyCapable: false,
      federated: { upstream: identity.upstream, ...(link ? { linkHandle: handle } : {}) },
      // Linking proves the account: whatever second factor it has is asked for.
      anyFactor: link,
    });
  };

  interface NewAccountPage {
    status?: number;
    errors?: FieldErrors<NewAccountField>;
    error?: Message;
    values: { username: string; email: string };
  }
  const renderNew = async (ctx: InteractionContext, pending: PendingSignIn, page: NewAccountPage) => {
    const { t } = languageOf(ctx);
    ctx.status = page.status ?? 200;
    await ctx.render('upstream-new', {
      title: t('upstream.newTitle'),
      uid: ctx.state.interaction.uid,
      upstreamName: nameOf(ctx, pending.identity.upstream),
      askEmail: !pending.identity.email,
      errors: translateFields(t, page.errors ?? {}),
      error: page.error ? t(page.error.key, page.error.params) : undefined,
      values: page.values,
    });
  };

  const renderLink = async (
    ctx: InteractionContext,
    pending: PendingSignIn,
    page: { status?: number; error?: Message; login?: string } = {},
  ) => {
    const { t } = languageOf(ctx);
    ctx.status = page.status ?? 200;
    await ctx.render('upstream-link', {
      title: t('upstream.linkTitle'),
      uid: ctx.state.interaction.uid,
      upstreamName: nameOf(ctx, pending.identity.upstream),
      email: pending.identity.email ?? '',
      login: page.login ?? pending.identity.email ?? '',
      error: page.error ? t(page.error.key, page.error.params) : undefined,
    });
  };

  /** Makes the account (no password) and signs in; a verification link goes out unless the upstream's email counts as verified. */
  const createAndFinish = async (
    ctx: InteractionContext,
    handle: string,
    pending: PendingSignIn,
    form: { username: string; email?: string },
  ) => {
    const result = await upstreams.accounts.create(pending.identity, form, ctx.ip);
    const values = { username: form.username, email: form.email ?? '' };
    if (!result.ok) {
      if (result.errors) {
        await renderNew(ctx, pending, { status: 400, errors: result.errors, values });
        return;
      }
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      await renderNew(ctx, pending, {
        status: 429,
        error: message('register.tooMany', { minutes: Math.ceil(result.retryAfterSeconds / 60) }),
        values,
      });
      return;
    }
    const { user } = result;
    const { locale, t } = languageOf(ctx);
    if (!user.emailVerified) {
      await verification.send(user, { locale, ip: ctx.ip }).catch((error: unknown) => {
        logger.error({ event: 'mail.failed', err: error, userId: user.id }, 'verification email not sent');
      });
    }
    if (requireVerifiedEmail && !user.emailVerified) {
      await upstreams.attempts.dropPending(handle);
      clearPendingCookie(ctx, ctx.state.interaction.uid);
      await ctx.render('message', { title: t('forgot.sentTitle'), message: t('register.checkEmail', { email: user.email }) });
      return;
    }
    setFlash(ctx, { category: 'success', message: t('register.created', { username: user.username }) });
    await finish(ctx, handle, pending.identity, user, { amr: ['fed'] });
  };

  /** "Continue with ...": a fresh attempt, its state bound to this browser, and off to the upstream. */
  const start: InteractionMiddleware = async function startUpstreamSignIn(ctx) {
    if (!atLoginStep(ctx)) return;
    const { uid } = ctx.state.interaction;
    const id = formField(ctx, 'upstream');
    const client = upstreams.clients.get(id);
    if (!client) {
      logger.warn({ event: 'upstream.unknown', upstream: id.slice(0, 40) }, 'no such upstream');
      await renderUpstreamProblem(ctx, { problem: 'unknown', status: 400, back: { to: 'interaction', uid } });
      return;
    }
    const slot = await upstreams.starts.take(ctx.ip);
    if (!slot.ok) {
      logger.warn({ event: 'upstream.throttled', upstream: id, ip: ctx.ip }, 'too many upstream sign-ins from the address');
      await refuseTooManyStarts(ctx, slot.retryAfterSeconds, { to: 'interaction', uid });
      return;
    }
    // The app asked for a fresh sign-in (prompt=login, max_age): the upstream's session will not do either.
    const fresh = ctx.state.interaction.prompt.reasons.some((reason) => reason === 'login_prompt' || reason === 'max_age');
    const secrets = await upstreams.attempts.start(id, { mode: 'login', uid }, { fresh });
    let url: URL;
    try {
      url = await client.authorizationUrl(secrets, { redirectUri: upstreams.redirectUri(id), locale: languageOf(ctx).locale });
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      logger.warn(
        { event: 'upstream.failed', upstream: id, reason: error.reason, detail: error.message },
        'upstream sign-in could not start',
      );
      await renderUpstreamProblem(ctx, { problem: error.reason, status: 502, name: nameOf(ctx, id), back: { to: 'interaction', uid } });
      return;
    }
    setStateCookie(ctx, id, secrets.state);
    logger.info({ event: 'upstream.started', upstream: id }, 'sent to the upstream');
    ctx.status = 303;
    ctx.redirect(url.href);
  };

  /**
   * The upstream sign-in this interaction is finishing, when it still needs a new account: one the
   * upstream is linked to signs in, and one that has its email is offered to link (never linked on the
   * email alone: the person signs in to that account first). Otherwise the page has answered.
   */
  const needingAccount = async (ctx: InteractionContext) => {
    if (!atLoginStep(ctx)) return undefined;
    const found = await pendingOf(ctx);
    if (!found) {
      await expired(ctx);
      return undefined;
    }
    const { handle, pending } = found;
    const resolution = await upstreams.accounts.resolve(pending.identity);
    if (resolution.kind === 'linked') await finish(ctx, handle, pending.identity, resolution.user, { amr: ['fed'] });
    else if (resolution.kind === 'email_taken') await renderLink(ctx, pending);
    else return found;
    return undefined;
  };

  /** Back from the upstream: a linked account signs in; otherwise the person chooses how to go on. */
  const resume: InteractionMiddleware = async function continueUpstreamSignIn(ctx) {
    const found = await needingAccount(ctx);
    if (!found) return;
    const { handle, pending } = found;
    const proposal = await upstreams.accounts.proposal(pending.identity);
    if (proposal.free && pending.identity.email) return createAndFinish(ctx, handle, pending, { username: proposal.username });
    const errors = proposal.username && !proposal.free ? { username: TAKEN_MESSAGES.username } : {};
    await renderNew(ctx, pending, { errors, values: { username: proposal.username, email: '' } });
  };

  /** The username (and, when the upstream gave none, the email) of a new account. */
  const create: InteractionMiddleware = async function createUpstreamAccount(ctx) {
    const found = await needingAccount(ctx);
    if (!found) return;
    const { handle, pending } = found;
    const email = pending.identity.email ? undefined : formField(ctx, 'email');
    await createAndFinish(ctx, handle, pending, { username: formField(ctx, 'username'), ...(email === undefined ? {} : { email }) });
  };

  /**
   * Sign in to the existing account (its password, throttled exactly like the sign-in form), then
   * link the upstream to it. `amr` says both: `pwd` and `fed`.
   */
  const link: InteractionMiddleware = async function linkUpstreamToAccount(ctx) {
    if (!atLoginStep(ctx)) return;
    const found = await pendingOf(ctx);
    if (!found) return expired(ctx);
    const { handle, pending } = found;
    const login = formField(ctx, 'login');
    const upstream = pending.identity.upstream;
    const result = await userService.authenticate(login, formField(ctx, 'password'), ctx.ip);
    if (!result.ok) {
      const throttled = result.reason === 'address_throttled';
      // As on the sign-in form: a refusal naming an account is kept without being waited for, so
      // the answer takes no longer for an account than for a name nobody has.
      const type = result.reason.endsWith('throttled') ? 'login.throttled' : 'login.failed';
      void events.record(type, { accountId: result.accountId, details: { reason: result.reason, upstream } });
      if (throttled) ctx.set('Retry-After', String(result.retryAfterSeconds));
      const error = throttled
        ? message('auth.ipThrottled', { seconds: result.retryAfterSeconds })
        : message(result.reason === 'disabled' ? 'auth.disabled' : 'auth.invalid');
      await renderLink(ctx, pending, { status: throttled ? 429 : 401, error, login });
      return;
    }
    if ((await upstreams.accounts.resolve(pending.identity)).kind === 'linked') {
      await renderLink(ctx, pending, { status: 409, error: message('upstream.linkTaken', { name: nameOf(ctx, upstream) }), login });
      return;
    }
    // The link is made once the sign-in finishes: now, or after the account's second factor.
    await finish(ctx, handle, pending.identity, result.user, { amr: ['fed', 'pwd'], link: true });
  };

  return { start, resume, create, link };
}

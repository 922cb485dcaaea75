import { errors, type Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { SecurityEvents } from '../../audit/security-events.ts';
import type { Config } from '../../config/schema.ts';
import { languageOf } from '../../http/locale.ts';
import { requiredLevel } from '../../oidc/configuration/authentication-level.ts';
import { ACR_MFA, ACR_PASSWORD } from '../../oidc/configuration/claims.ts';
import type { UserRecord } from '../../storage/ports.ts';
import type { FactorChanges } from '../../users/mfa/factor-changes.ts';
import type { Passkeys } from '../../users/mfa/passkeys.ts';
import type { SecondFactors } from '../../users/mfa/second-factors.ts';
import { hasSecondFactor } from '../../users/mfa/second-factors.ts';
import type { UserService } from '../../users/user-service.ts';
import type { Interaction, InteractionContext } from './middleware.ts';

export { hasSecondFactor };

/** Everything the steps after the first factor need. */
export interface SignInDeps {
  provider: Provider;
  userService: UserService;
  secondFactors: SecondFactors;
  passkeys: Passkeys;
  mfaPolicy: Config['mfa'];
  logger: Logger;
  /** The finished sign-in, and each failed or throttled second step, is a security event. */
  events: SecurityEvents;
  /** A factor set up during a sign-in (a required set-up, the passkey offer) is recorded, emailed and voids older sign-ins. */
  factorChanges: FactorChanges;
  /** Told of each finished sign-in whose first factor came through an upstream provider (the idp claim, a pending link). */
  federation?: FederationHook | undefined;
}

/** What a first factor given through an upstream identity provider carries to the end of the sign-in. */
export interface FederatedFirstFactor {
  /** The upstream's IDP_UPSTREAMS id: the `idp` claim. */
  upstream: string;
  /** A link to make once the sign-in is finished (the person proved the account: password, then second factor). */
  linkHandle?: string;
}

export interface FederationHook {
  /** Runs as the sign-in finishes, before the login is saved; `ts` is its time (the tokens' auth_time). */
  signedIn(ctx: InteractionContext, login: { accountId: string; ts: number }, federated: FederatedFirstFactor): Promise<void>;
}

/**
 * A person who has given their first factor (a password) and owes a second one. It is kept in the
 * interaction itself (server-side, in the store oidc-provider keeps interactions in) under a key that
 * is not `login`, so the password step alone never finishes the sign-in: whoever goes on to the
 * authorization endpoint without the second factor resumes with no login and is asked again, and an
 * abandoned second step expires with its interaction.
 */
export interface PendingSecondStep {
  accountId: string;
  /** The methods already used (RFC 8176), e.g. ["pwd"]. */
  amr: string[];
  remember: boolean;
  /** Epoch seconds the first factor was given. */
  at: number;
  /** The browser can make a passkey (it said so when the form was sent). */
  passkeyCapable: boolean;
  /** Asked of a session that is already signed in, for a higher level than it has (step-up): its id. */
  stepUpSession?: string;
  /** The first factor came through an upstream provider. */
  federated?: FederatedFirstFactor;
}

/** The second step must follow the first within this time; then the person starts over. */
const SECOND_STEP_TTL = 10 * 60;
/** Where the pending second step lives in the interaction's result. */
const PENDING = 'mfa';
/** Set in the interaction's result when the passkey offer was made there (see finishSignIn). */
const OFFERED = 'passkeyOffered';

/**
 * A finished sign-in as stored in the interaction's result for oidc-provider to resume. Every one we
 * store says when its factors were given (`ts`, oidc-provider's loginTs, the ID token's auth_time):
 * without it oidc-provider would use the moment of the resume, so a sign-in finished and left waiting
 * would look fresh, and could be resumed past a change of the account's credentials.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#user-flows
 */
export type LoginResult = {
  accountId: string;
  acr: string;
  amr: string[];
  remember: boolean;
  /** Epoch seconds: when the first factor of this sign-in was given (a step-up keeps the session's). */
  ts: number;
  /** Kept only until the sign-in finishes; never part of what oidc-provider saves. */
  federated?: FederatedFirstFactor;
};

const now = () => Math.floor(Date.now() / 1000);

/** `amr` values in a stable order, each once, with `mfa` last when two factors (or a passkey) were used. */
export function methods(...lists: string[][]): string[] {
  const all = [...new Set(lists.flat())].filter((value) => value !== 'mfa');
  const multi = lists.flat().includes('mfa') || (all.includes('pwd') && all.length > 1);
  return multi ? [...all, 'mfa'] : all;
}

/** The level this interaction's request needs (policy, client, request). */
export function levelNeeded(ctx: InteractionContext, policy: Config['mfa']): number {
  return requiredLevel(ctx.state.interaction.params, ctx.state.client, policy);
}

/**
 * Whom the second step is for: a person who just gave their password in this interaction, or a
 * signed-in session whose only shortfall is the level (the login prompt's one reason is ours).
 */
export function pendingSecondStep(interaction: Interaction): PendingSecondStep | undefined {
  const pending = (interaction.result as Record<string, unknown> | undefined)?.[PENDING] as PendingSecondStep | undefined;
  if (pending && typeof pending.accountId === 'string' && typeof pending.at === 'number' && pending.at + SECOND_STEP_TTL > now()) {
    return pending;
  }
  const { prompt, session } = interaction;
  if (
    prompt.name === 'login' &&
    session?.accountId &&
    session.cookie &&
    prompt.reasons.length > 0 &&
    prompt.reasons.every((r) => r === 'mfa_required')
  ) {
    return {
      accountId: session.accountId,
      amr: session.amr ?? [],
      remember: true,
      at: now(),
      passkeyCapable: false,
      stepUpSession: session.cookie,
    };
  }
  return undefined;
}

/**
 * Whether a factor may be set up in this pending step: only when the first factor (the password, or
 * a sign-in through an upstream, the only way into an account made there) was given in this very
 * interaction (and the account has none yet, which the callers check). A step-up holds nothing but a
 * session cookie, and a cookie alone must never bind a new factor (NIST SP 800-63B-4 §4.1.2): an
 * account without a factor is asked for its first factor again.
 */
export function maySetUpFactor(pending: PendingSecondStep): boolean {
  return pending.stepUpSession === undefined && (pending.amr.includes('pwd') || pending.amr.includes('fed'));
}

/** The sign-in this interaction already finished (its result holds a login): only "continue" is left. */
export function finishedLogin(interaction: Interaction): LoginResult | undefined {
  const login = (interaction.result as { login?: LoginResult } | undefined)?.login;
  return login && typeof login.accountId === 'string' ? login : undefined;
}

/** Whether this interaction finished its sign-in by offering to add a passkey (the only time one may be added after it). */
export function passkeyOffered(interaction: Interaction): boolean {
  return (interaction.result as Record<string, unknown> | undefined)?.[OFFERED] === true;
}

/** The person the second step is for; an account gone or disabled since the first step ends the sign-in. */
export async function secondStepUser(deps: SignInDeps, pending: PendingSecondStep): Promise<UserRecord> {
  const user = await deps.userService.findById(pending.accountId);
  if (!user?.active) throw new errors.SessionNotFound('the account of this sign-in is no longer available');
  return user;
}

/**
 * The password was right. With no second factor owed, the sign-in finishes; otherwise the second
 * step (or, for someone who must have a factor and has none, its set-up) comes next, on the
 * interaction's own page.
 */
export async function afterPassword(
  ctx: InteractionContext,
  deps: SignInDeps,
  user: UserRecord,
  { remember, passkeyCapable }: { remember: boolean; passkeyCapable: boolean },
): Promise<void> {
  await afterFirstFactor(ctx, deps, user, { amr: ['pwd'], remember, passkeyCapable });
}

/**
 * A first factor was given: a password (`pwd`), or a sign-in through an upstream provider (`fed`,
 * RFC 8176), or both when an upstream is being linked to an account by its password. It counts as
 * one factor (acr 1) whatever it was; an account's second factor is owed after it as after a
 * password. `anyFactor`: any second factor the account has is owed (linking proves the account, so
 * a passkey or recovery code must be used if that is all it has).
 */
export async function afterFirstFactor(
  ctx: InteractionContext,
  deps: SignInDeps,
  user: UserRecord,
  {
    amr,
    remember,
    passkeyCapable,
    federated,
    anyFactor = false,
  }: { amr: string[]; remember: boolean; passkeyCapable: boolean; federated?: FederatedFirstFactor; anyFactor?: boolean },
): Promise<void> {
  const status = await deps.secondFactors.status(user);
  const owed = status.totp || (anyFactor && hasSecondFactor(status)) || levelNeeded(ctx, deps.mfaPolicy) >= 2;
  if (!owed) {
    const login = { accountId: user.id, acr: ACR_PASSWORD, amr, remember, ts: now(), ...(federated ? { federated } : {}) };
    await finishSignIn(ctx, deps, login, { offerPasskey: passkeyCapable && status.passkeys === 0 });
    return;
  }
  const pending: PendingSecondStep = { accountId: user.id, amr, remember, at: now(), passkeyCapable, ...(federated ? { federated } : {}) };
  await deps.provider.interactionResult(ctx.req, ctx.res, { [PENDING]: pending }, { mergeWithLastSubmission: false });
  // Post/redirect/get: the second step is the interaction's page now; reloading it sends nothing again.
  ctx.status = 303;
  ctx.redirect(`/interaction/${ctx.state.interaction.uid}`);
}

/**
 * The login that a verified second factor completes, at level 2, dated when the first factor was
 * given. A step-up keeps the session's persistence and its loginTs: only the second factor was given
 * now, so auth_time (what max_age measures) and the session's absolute lifetime still count from the
 * password (OpenID Connect Core §2 auth_time; ASVS 5.0 7.3.2).
 */
export async function secondFactorLogin(deps: SignInDeps, pending: PendingSecondStep, used: string[]): Promise<LoginResult> {
  let { remember } = pending;
  let ts = pending.at;
  if (pending.stepUpSession) {
    // oidc-provider's `remember` decides the cookie's persistence anew: keep what the session had.
    const session = await deps.provider.Session.find(pending.stepUpSession);
    remember = session ? !session.transient : false;
    ts = session?.loginTs ?? ts;
  }
  return {
    accountId: pending.accountId,
    acr: ACR_MFA,
    amr: methods(pending.amr, used, ['mfa']),
    remember,
    ts,
    ...(pending.federated ? { federated: pending.federated } : {}),
  };
}

const OFFER_COOKIE = 'passkey_offered';

/**
 * What every finished sign-in goes through before its login is saved, whichever page finishes it
 * (the last step, a recovery code's page, a set-up): the federation hook for a first factor given
 * through an upstream (the idp claim, a pending link) and the security event. Returns the login as
 * oidc-provider saves it, without `federated`. Its `ts` (when the first factor was given; a step-up
 * keeps the session's) becomes the tokens' auth_time, under which the hook keeps what it must find
 * again.
 */
export async function completeSignIn(ctx: InteractionContext, deps: SignInDeps, login: LoginResult): Promise<LoginResult> {
  const { federated, ...saved } = login;
  if (federated) await deps.federation?.signedIn(ctx, { accountId: saved.accountId, ts: saved.ts }, federated);
  await deps.events.record('login.succeeded', {
    accountId: saved.accountId,
    details: { acr: saved.acr, amr: saved.amr.join(' '), remember: saved.remember, ...(federated ? { upstream: federated.upstream } : {}) },
  });
  return saved;
}

/**
 * Finishes the sign-in. Someone who signed in without a passkey, on a browser that can make one, is
 * offered to add one, once per device (a cookie remembers the offer, whatever the answer), as the
 * FIDO Alliance's passkey guidelines suggest: the login is saved first, so the offer can be skipped.
 * The result remembers that the offer was made: only then may this interaction add a passkey.
 */
export async function finishSignIn(
  ctx: InteractionContext,
  deps: SignInDeps,
  login: LoginResult,
  { offerPasskey }: { offerPasskey: boolean },
): Promise<void> {
  login = await completeSignIn(ctx, deps, login);
  if (!offerPasskey || !deps.passkeys.available || ctx.cookies.get(OFFER_COOKIE)) {
    await deps.provider.interactionFinished(ctx.req, ctx.res, { login }, { mergeWithLastSubmission: false });
    return;
  }
  await deps.provider.interactionResult(ctx.req, ctx.res, { login, [OFFERED]: true }, { mergeWithLastSubmission: false });
  ctx.cookies.set(OFFER_COOKIE, '1', {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    path: '/',
    maxAge: 400 * 24 * 3600 * 1000,
  });
  const { t } = languageOf(ctx);
  await ctx.render('passkey-offer', { title: t('passkey.offerTitle'), uid: ctx.state.interaction.uid });
}

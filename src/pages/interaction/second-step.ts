import { errors, type Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { SecurityEvents } from '../../audit/security-events.ts';
import type { Config } from '../../config/schema.ts';
import { languageOf } from '../../http/locale.ts';
import { requiredLevel } from '../../oidc/configuration/authentication-level.ts';
import { ACR_MFA, ACR_PASSWORD } from '../../oidc/configuration/claims.ts';
import type { UserRecord } from '../../storage/ports.ts';
import type { Passkeys } from '../../users/mfa/passkeys.ts';
import type { FactorStatus, SecondFactors } from '../../users/mfa/second-factors.ts';
import type { UserService } from '../../users/user-service.ts';
import type { Interaction, InteractionContext } from './middleware.ts';

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

export type LoginResult = {
  accountId: string;
  acr: string;
  amr: string[];
  remember: boolean;
  /** The sign-in's time (epoch seconds), set as it finishes. */
  ts?: number;
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
  if (prompt.name === 'login' && session?.accountId && prompt.reasons.length > 0 && prompt.reasons.every((r) => r === 'mfa_required')) {
    const stepUp = { accountId: session.accountId, amr: session.amr ?? [], remember: true, at: now(), passkeyCapable: false };
    return session.cookie ? { ...stepUp, stepUpSession: session.cookie } : stepUp;
  }
  return undefined;
}

/** The sign-in this interaction already finished (its result holds a login): only "continue" is left. */
export function finishedLogin(interaction: Interaction): LoginResult | undefined {
  const login = (interaction.result as { login?: LoginResult } | undefined)?.login;
  return login && typeof login.accountId === 'string' ? login : undefined;
}

/** The person the second step is for; an account gone or disabled since the first step ends the sign-in. */
export async function secondStepUser(deps: SignInDeps, pending: PendingSecondStep): Promise<UserRecord> {
  const user = await deps.userService.findById(pending.accountId);
  if (!user?.active) throw new errors.SessionNotFound('the account of this sign-in is no longer available');
  return user;
}

/** Whether `status` holds a second factor the person can use now. */
export function hasSecondFactor(status: FactorStatus): boolean {
  return status.totp || status.recoveryCodes > 0 || status.passkeys > 0;
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
    const login = { accountId: user.id, acr: ACR_PASSWORD, amr, remember, ...(federated ? { federated } : {}) };
    await finishSignIn(ctx, deps, login, { offerPasskey: passkeyCapable && status.passkeys === 0 });
    return;
  }
  const pending: PendingSecondStep = { accountId: user.id, amr, remember, at: now(), passkeyCapable, ...(federated ? { federated } : {}) };
  await deps.provider.interactionResult(ctx.req, ctx.res, { [PENDING]: pending }, { mergeWithLastSubmission: false });
  // Post/redirect/get: the second step is the interaction's page now; reloading it sends nothing again.
  ctx.status = 303;
  ctx.redirect(`/interaction/${ctx.state.interaction.uid}`);
}

/** The login that a verified second factor completes, at level 2. A step-up keeps the session's persistence. */
export async function secondFactorLogin(deps: SignInDeps, pending: PendingSecondStep, used: string[]): Promise<LoginResult> {
  let { remember } = pending;
  if (pending.stepUpSession) {
    // oidc-provider's `remember` decides the cookie's persistence anew: keep what the session had.
    const session = await deps.provider.Session.find(pending.stepUpSession);
    remember = session ? !session.transient : false;
  }
  return {
    accountId: pending.accountId,
    acr: ACR_MFA,
    amr: methods(pending.amr, used, ['mfa']),
    remember,
    ...(pending.federated ? { federated: pending.federated } : {}),
  };
}

const OFFER_COOKIE = 'passkey_offered';

/**
 * Finishes the sign-in. Someone who signed in without a passkey, on a browser that can make one, is
 * offered to add one, once per device (a cookie remembers the offer, whatever the answer), as the
 * FIDO Alliance's passkey guidelines suggest: the login is saved first, so the offer can be skipped.
 */
export async function finishSignIn(
  ctx: InteractionContext,
  deps: SignInDeps,
  login: LoginResult,
  { offerPasskey }: { offerPasskey: boolean },
): Promise<void> {
  const { federated, ...saved } = login;
  // The time is set here, not left to oidc-provider, so what the federation hook keeps under it is
  // found again by the tokens of this sign-in (their auth_time).
  login = { ...saved, ts: now() };
  if (federated) await deps.federation?.signedIn(ctx, { accountId: login.accountId, ts: login.ts ?? now() }, federated);
  await deps.events.record('login.succeeded', {
    accountId: login.accountId,
    details: { acr: login.acr, amr: login.amr.join(' '), remember: login.remember, ...(federated ? { upstream: federated.upstream } : {}) },
  });
  if (!offerPasskey || !deps.passkeys.available || ctx.cookies.get(OFFER_COOKIE)) {
    await deps.provider.interactionFinished(ctx.req, ctx.res, { login }, { mergeWithLastSubmission: false });
    return;
  }
  await deps.provider.interactionResult(ctx.req, ctx.res, { login }, { mergeWithLastSubmission: false });
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

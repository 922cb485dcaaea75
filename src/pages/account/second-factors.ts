import type Router from '@koa/router';
import type { Context } from 'koa';
import { setFlash } from '../../http/flash.ts';
import { formField, parseForm } from '../../http/forms.ts';
import { languageOf } from '../../http/locale.ts';
import type { Translate } from '../../i18n/translate.ts';
import type { UserRecord } from '../../storage/ports.ts';
import type { FactorChange } from '../../users/account-notices.ts';
import type { FactorChanges } from '../../users/mfa/factor-changes.ts';
import type { Passkeys } from '../../users/mfa/passkeys.ts';
import type { SecondFactors } from '../../users/mfa/second-factors.ts';
import { groupSecret } from '../interaction/mfa-setup.ts';
import { type ConfirmTarget, requireRecentSignIn } from './recent-sign-in.ts';
import type { SignedIn } from './signed-in.ts';

export type { SignedIn } from './signed-in.ts';

export interface AccountSecondFactorDeps {
  secondFactors: SecondFactors;
  passkeys: Passkeys;
  /** Every factor added or removed: recorded, emailed to the owner, and older sign-ins stop counting. */
  factorChanges: FactorChanges;
  /** The account router's own check: a signed-in person, and for a POST a CSRF token bound to the session. */
  guard(ctx: Context, post: boolean): Promise<SignedIn | undefined>;
  csrfToken(who: SignedIn): string;
}

function dateIn(locale: string, date: Date): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(date);
}

/** What the account page shows about the person's second factors and passkeys. */
export async function secondFactorSections(
  services: { passkeys: Pick<Passkeys, 'list'>; secondFactors: Pick<SecondFactors, 'status'> },
  user: UserRecord,
  t: Translate,
  locale: string,
) {
  const [passkeys, status] = await Promise.all([services.passkeys.list(user.id), services.secondFactors.status(user)]);
  return {
    twoStep: {
      on: user.factors.totp !== undefined,
      blocked: status.totpBlocked,
      since: user.factors.totp ? dateIn(locale, user.factors.totp.createdAt) : undefined,
      recoveryCodes: user.factors.recoveryCodes.length,
    },
    passkeys: passkeys.map((passkey) => {
      const created = dateIn(locale, passkey.createdAt);
      return {
        id: passkey.id,
        name: passkey.name,
        dates: passkey.lastUsedAt
          ? t('account.passkeyDates', { created, used: dateIn(locale, passkey.lastUsedAt) })
          : t('account.passkeyNeverUsed', { created }),
        kind: t(passkey.deviceType === 'multiDevice' ? 'account.passkeySynced' : 'account.passkeyDevice'),
      };
    }),
  };
}

/**
 * The account page's second factors: set up an authenticator app (QR code and key, confirmed by one
 * code, then the recovery codes shown once), turn it off or make new recovery codes, and add, name
 * and remove passkeys. Each of these needs a recent sign-in at the account's own strongest level
 * (recent-sign-in.ts): otherwise the person is sent through a fresh sign-in (prompt=login, with the
 * second factor when the account has one) and brought back. That replaces the current-password
 * field these forms used to have: a session alone (a stolen cookie, an unattended browser) changes
 * nothing here, and the fresh sign-in asks the account's second factor too, which a password field
 * never did. Every change is recorded, emailed to the owner, and ends the account's older sign-ins
 * (this session stays).
 */
export function addSecondFactorRoutes(router: Router, deps: AccountSecondFactorDeps): void {
  const { secondFactors, passkeys, factorChanges, guard } = deps;
  /**
   * A TOTP set-up and a passkey registration are this browser session's own ceremonies. The set-up is
   * keyed by the session's uid, which a fresh sign-in keeps (its id changes), so a QR code scanned
   * before being asked to sign in again still works after; the passkey challenge lives 5 minutes.
   */
  const setupCeremony = (who: SignedIn) => `account:${who.signIn.uid}`;
  const ceremony = (who: SignedIn) => `account:${who.sessionId}`;

  const recentEnough = (ctx: Context, who: SignedIn, target: ConfirmTarget, json = false) =>
    requireRecentSignIn(ctx, secondFactors, who, target, { json });
  const changed = (ctx: Context, who: SignedIn, change: FactorChange, name?: string) =>
    factorChanges.changed(who.user, change, { locale: languageOf(ctx).locale, name, keepSession: who.signIn.uid });

  const renderSetup = async (ctx: Context, who: SignedIn, codeError?: string) => {
    const { t } = languageOf(ctx);
    const setup = secondFactors.available ? await secondFactors.beginTotpSetup(who.user, setupCeremony(who)) : undefined;
    ctx.status = codeError ? 400 : 200;
    await ctx.render('mfa-setup', {
      title: t('setup.title'),
      lead: t('setup.account'),
      available: setup !== undefined,
      qrCode: setup?.qrCode,
      secret: setup && groupSecret(setup.secret),
      action: '/account/two-step',
      csrfToken: deps.csrfToken(who),
      codeError,
    });
  };

  router.get('/two-step', async function showTwoStepSetup(ctx) {
    const who = await guard(ctx, false);
    if (!who) return;
    if (who.user.factors.totp) {
      ctx.redirect('/account');
      return;
    }
    if (await recentEnough(ctx, who, 'two-step')) await renderSetup(ctx, who);
  });

  router.post('/two-step', parseForm, async function confirmTwoStep(ctx) {
    const who = await guard(ctx, true);
    if (!who) return;
    if (who.user.factors.totp || !secondFactors.available) {
      ctx.redirect('/account');
      return;
    }
    if (!(await recentEnough(ctx, who, 'two-step'))) return;
    const result = await secondFactors.confirmTotpSetup(who.user, setupCeremony(who), formField(ctx, 'code'));
    const { t } = languageOf(ctx);
    if (!result.ok) {
      await renderSetup(ctx, who, t('setup.invalid'));
      return;
    }
    await changed(ctx, who, 'totp_enabled');
    setFlash(ctx, { category: 'success', message: t('account.twoStepEnabled') });
    await ctx.render('recovery-codes', { title: t('recovery.title'), codes: result.recoveryCodes });
  });

  router.post('/two-step/off', parseForm, async function turnTwoStepOff(ctx) {
    const who = await guard(ctx, true);
    if (!who || !(await recentEnough(ctx, who, 'factors'))) return;
    if (!who.user.factors.totp) {
      ctx.redirect('/account');
      return;
    }
    await secondFactors.disable(who.user);
    await changed(ctx, who, 'totp_disabled');
    setFlash(ctx, { category: 'success', message: languageOf(ctx).t('account.twoStepDisabled') });
    ctx.redirect('/account');
  });

  router.post('/two-step/recovery-codes', parseForm, async function newRecoveryCodes(ctx) {
    const who = await guard(ctx, true);
    if (!who || !(await recentEnough(ctx, who, 'factors'))) return;
    if (!who.user.factors.totp || !secondFactors.available) {
      ctx.redirect('/account');
      return;
    }
    const codes = await secondFactors.regenerateRecoveryCodes(who.user);
    await changed(ctx, who, 'recovery_codes_regenerated');
    await ctx.render('recovery-codes', { title: languageOf(ctx).t('recovery.title'), codes });
  });

  router.post('/passkeys/options', parseForm, async function passkeyCreationOptions(ctx) {
    const who = await guard(ctx, true);
    if (!who) return;
    if (!passkeys.available) {
      ctx.status = 403;
      ctx.body = { error: 'passkeys need ISSUER at a domain name' };
      return;
    }
    if (await recentEnough(ctx, who, 'passkeys', true)) ctx.body = await passkeys.registrationOptions(who.user, ceremony(who));
  });

  router.post('/passkeys', parseForm, async function addPasskey(ctx) {
    const who = await guard(ctx, true);
    if (!who || !(await recentEnough(ctx, who, 'passkeys'))) return;
    const { t } = languageOf(ctx);
    const added = await passkeys.register(who.user, ceremony(who), formField(ctx, 'response'), formField(ctx, 'name'));
    if (added) await changed(ctx, who, 'passkey_added', added.name);
    setFlash(
      ctx,
      added
        ? { category: 'success', message: t('account.passkeyAdded', { name: added.name }) }
        : { category: 'error', message: t('passkey.addFailed') },
    );
    ctx.redirect('/account');
  });

  router.post('/passkeys/remove', parseForm, async function removePasskey(ctx) {
    const who = await guard(ctx, true);
    if (!who || !(await recentEnough(ctx, who, 'passkeys'))) return;
    const { t } = languageOf(ctx);
    const removed = await passkeys.remove(who.user.id, formField(ctx, 'id'));
    if (removed) await changed(ctx, who, 'passkey_removed', removed.name);
    setFlash(
      ctx,
      removed
        ? { category: 'success', message: t('account.passkeyRemoved', { name: removed.name }) }
        : { category: 'error', message: t('account.passkeyGone') },
    );
    ctx.redirect('/account');
  });
}

import type Router from '@koa/router';
import type { Context } from 'koa';
import type { SecurityEvents } from '../../audit/security-events.ts';
import { setFlash } from '../../http/flash.ts';
import { formField, parseForm } from '../../http/forms.ts';
import { languageOf } from '../../http/locale.ts';
import type { Translate } from '../../i18n/translate.ts';
import type { UserRecord } from '../../storage/ports.ts';
import type { Passkeys } from '../../users/mfa/passkeys.ts';
import type { SecondFactors } from '../../users/mfa/second-factors.ts';
import type { Profiles } from '../../users/profile.ts';
import { groupSecret } from '../interaction/mfa-setup.ts';

export interface SignedIn {
  sessionId: string;
  user: UserRecord;
}

export interface AccountSecondFactorDeps {
  /** Turning factors on and off, new recovery codes and passkeys are security events of the account. */
  events: SecurityEvents;
  secondFactors: SecondFactors;
  passkeys: Passkeys;
  profiles: Pick<Profiles, 'isCurrentPassword'>;
  /** The account router's own check: a signed-in person, and for a POST a CSRF token bound to the session. */
  guard(ctx: Context, post: boolean): Promise<SignedIn | undefined>;
  /** Renders the account page, with `extra` (field errors) for the sections. */
  render(ctx: Context, who: SignedIn, extra?: Record<string, unknown>): Promise<void>;
  csrfToken(who: SignedIn): string;
}

function dateIn(locale: string, date: Date): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(date);
}

/** What the account page shows about the person's second factors and passkeys. */
export async function secondFactorSections(passkeyList: Pick<Passkeys, 'list'>, user: UserRecord, t: Translate, locale: string) {
  const passkeys = await passkeyList.list(user.id);
  return {
    twoStep: {
      on: user.factors.totp !== undefined,
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
 * code, then the recovery codes shown once), turn it off or make new recovery codes (both need the
 * current password), and add, name and remove passkeys.
 */
export function addSecondFactorRoutes(router: Router, deps: AccountSecondFactorDeps): void {
  const { secondFactors, passkeys, profiles, guard, render, events } = deps;

  const renderSetup = async (ctx: Context, who: SignedIn, codeError?: string) => {
    const { t } = languageOf(ctx);
    const setup = secondFactors.available ? await secondFactors.beginTotpSetup(who.user) : undefined;
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
    await renderSetup(ctx, who);
  });

  router.post('/two-step', parseForm, async function confirmTwoStep(ctx) {
    const who = await guard(ctx, true);
    if (!who) return;
    if (who.user.factors.totp || !secondFactors.available) {
      ctx.redirect('/account');
      return;
    }
    const result = await secondFactors.confirmTotpSetup(who.user, formField(ctx, 'code'));
    const { t } = languageOf(ctx);
    if (!result.ok) {
      await renderSetup(ctx, who, t('setup.invalid'));
      return;
    }
    await events.record('mfa.totp_enabled', { accountId: who.user.id });
    setFlash(ctx, { category: 'success', message: t('account.twoStepEnabled') });
    await ctx.render('recovery-codes', { title: t('recovery.title'), codes: result.recoveryCodes });
  });

  /** Turning the app off and making new codes need the current password, like a new email. */
  const withPassword = async (ctx: Context, who: SignedIn): Promise<boolean> => {
    if (await profiles.isCurrentPassword(who.user, formField(ctx, 'currentPassword'))) return true;
    ctx.status = 400;
    await render(ctx, who, { twoStepErrors: { currentPassword: languageOf(ctx).t('validation.wrongCurrentPassword') } });
    return false;
  };

  router.post('/two-step/off', parseForm, async function turnTwoStepOff(ctx) {
    const who = await guard(ctx, true);
    if (!who || !(await withPassword(ctx, who))) return;
    await secondFactors.disable(who.user);
    await events.record('mfa.totp_disabled', { accountId: who.user.id });
    setFlash(ctx, { category: 'success', message: languageOf(ctx).t('account.twoStepDisabled') });
    ctx.redirect('/account');
  });

  router.post('/two-step/recovery-codes', parseForm, async function newRecoveryCodes(ctx) {
    const who = await guard(ctx, true);
    if (!who || !(await withPassword(ctx, who))) return;
    if (!who.user.factors.totp || !secondFactors.available) {
      ctx.redirect('/account');
      return;
    }
    const codes = await secondFactors.regenerateRecoveryCodes(who.user);
    await events.record('mfa.recovery_codes_regenerated', { accountId: who.user.id });
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
    ctx.body = await passkeys.registrationOptions(who.user, `account:${who.sessionId}`);
  });

  router.post('/passkeys', parseForm, async function addPasskey(ctx) {
    const who = await guard(ctx, true);
    if (!who) return;
    const { t } = languageOf(ctx);
    const added = await passkeys.register(who.user, `account:${who.sessionId}`, formField(ctx, 'response'), formField(ctx, 'name'));
    if (added) await events.record('passkey.added', { accountId: who.user.id, details: { name: added.name } });
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
    if (!who) return;
    const { t } = languageOf(ctx);
    const removed = await passkeys.remove(who.user.id, formField(ctx, 'id'));
    if (removed) await events.record('passkey.removed', { accountId: who.user.id, details: { name: removed.name } });
    setFlash(
      ctx,
      removed
        ? { category: 'success', message: t('account.passkeyRemoved', { name: removed.name }) }
        : { category: 'error', message: t('account.passkeyGone') },
    );
    ctx.redirect('/account');
  });
}

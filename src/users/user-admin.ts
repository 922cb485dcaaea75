import { randomBytes } from 'node:crypto';
import type { SecurityEvents } from '../audit/security-events.ts';
import { AppError } from '../errors.ts';
import { translate, translateFields, translator } from '../i18n/translate.ts';
import type { ClaimValue, UserRecord, UserRepository } from '../storage/ports.ts';
import { firstProblem } from '../zod-problems.ts';
import type { AccountNotices } from './account-notices.ts';
import { claimNameSchema, claimsSchema, groupListSchema, groupNameSchema, MAX_CLAIMS, MAX_GROUPS } from './attributes.ts';
import type { CredentialChanges } from './credentials-changed.ts';
import type { CodeFailures } from './mfa/code-failures.ts';
import { parseFullName } from './normalize.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { PasswordPolicy } from './password-policy.ts';
import type { PasswordReset } from './password-reset.ts';
import type { UserSessions } from './sessions.ts';
import type { UserService } from './user-service.ts';

export interface UserAdminDeps {
  userService: UserService;
  users: UserRepository;
  sessions: UserSessions;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  passwordReset: Pick<PasswordReset, 'linkFor'>;
  events: SecurityEvents;
  credentials: Pick<CredentialChanges, 'mark'>;
  notices: Pick<AccountNotices, 'canEmail' | 'factorsReset'>;
  codeFailures: Pick<CodeFailures, 'clear'>;
  /** How long a password reset link works, for the reset-mfa email. */
  resetLinkMinutes: number;
  /** Which scope releases which extra claim, to tell the administrator about a claim no scope releases. */
  claimScopes: Record<string, string[]>;
}

/**
 * What `npm run users` does, as a service: the same rules as the pages (registration validation,
 * password policy), and the same consequences (disabling or deleting ends sessions and revokes apps).
 * Every change is a security event of the account, by an administrator.
 */
export function createUserAdmin(deps: UserAdminDeps) {
  const { userService, users, sessions, hasher, policy, passwordReset, events, credentials, claimScopes } = deps;
  const changed = (type: Parameters<SecurityEvents['record']>[0], accountId: string, details?: Record<string, string | number | boolean>) =>
    events.record(type, { accountId, actor: 'admin', details });

  /** A user by id, username or email. */
  const find = async (reference: string): Promise<UserRecord> => {
    const user = (await users.findById(reference.trim())) ?? (await userService.findByLogin(reference));
    if (!user) throw new AppError('not_found', `no user "${reference}" (give an id, a username or an email)`, { status: 404 });
    return user;
  };

  const released = new Set(Object.values(claimScopes).flat());
  /** The claims of `names` that no scope releases (they stay on the account, unseen by apps). */
  const unreleased = (names: string[]) => names.filter((claim) => !released.has(claim));

  return {
    find,

    /** Creates a user; without a password, a random one is generated and returned once. */
    async create(input: {
      username: string;
      email: string;
      password?: string;
      verified?: boolean;
      name?: string;
      groups?: string[];
      claims?: Record<string, ClaimValue>;
    }) {
      const name = fullName(input.name ?? '');
      const groups = checkedGroups(input.groups ?? []);
      const claims = checkedClaims(input.claims ?? {});
      const password = input.password ?? randomBytes(18).toString('base64url');
      const result = await userService.register({ ...input, password, confirmPassword: password });
      if (!result.ok)
        throw new AppError(
          'invalid_input',
          Object.entries(translateFields(translator('en'), result.errors ?? {}))
            .map(([field, text]) => `${field}: ${text}`)
            .join('; '),
        );
      if (input.verified) await users.markEmailVerified(result.user.id, result.user.email);
      if (name) await users.setName(result.user.id, name);
      if (groups.length > 0) await users.addGroups(result.user.id, groups);
      if (Object.keys(claims).length > 0) await users.updateClaims(result.user.id, { set: claims });
      await changed('admin.account_created', result.user.id, { verified: Boolean(input.verified) });
      return {
        user: await find(result.user.id),
        generatedPassword: input.password ? undefined : password,
        unreleased: unreleased(Object.keys(claims)),
      };
    },

    async addGroups(reference: string, groups: string[]) {
      const user = await find(reference);
      const added = checkedGroups(groups);
      const total = new Set([...user.groups, ...added]).size;
      if (total > MAX_GROUPS) throw new AppError('invalid_input', `group: a user is in at most ${MAX_GROUPS} groups`);
      await users.addGroups(user.id, added);
      await changed('admin.groups_changed', user.id, { added: added.join(', ') });
      return { user: await find(user.id) };
    },

    async removeGroups(reference: string, groups: string[]) {
      const user = await find(reference);
      const missing = groups.filter((group) => !user.groups.includes(group));
      if (missing.length > 0) throw new AppError('invalid_input', `${user.username} is not in the group "${missing[0]}"`);
      await users.removeGroups(user.id, groups);
      await changed('admin.groups_changed', user.id, { removed: groups.join(', ') });
      return { user: await find(user.id) };
    },

    /** Sets some extra claims and removes others; the rest stay as they are. */
    async updateClaims(reference: string, changes: { set?: Record<string, ClaimValue>; remove?: string[] }) {
      const user = await find(reference);
      const set = checkedClaims(changes.set ?? {});
      const remove = changes.remove ?? [];
      for (const claim of remove) {
        const parsed = claimNameSchema.safeParse(claim);
        if (!parsed.success) throw new AppError('invalid_input', firstProblem(parsed.error, 'claim'));
        if (!Object.hasOwn(user.claims, claim)) throw new AppError('invalid_input', `${user.username} has no claim "${claim}"`);
        if (Object.hasOwn(set, claim)) throw new AppError('invalid_input', `the claim "${claim}" cannot be set and removed at once`);
      }
      const total = new Set([...Object.keys(user.claims).filter((claim) => !remove.includes(claim)), ...Object.keys(set)]).size;
      if (total > MAX_CLAIMS) throw new AppError('invalid_input', `claim: a user has at most ${MAX_CLAIMS} extra claims`);
      await users.updateClaims(user.id, { set, remove });
      // The names only: a claim's value may be personal data the log has no need of.
      await changed('admin.claims_changed', user.id, { set: Object.keys(set).join(', '), removed: remove.join(', ') });
      return { user: await find(user.id), unreleased: unreleased(Object.keys(set)) };
    },

    list: (options: { search?: string; page: number; perPage: number }) =>
      users.list({ search: options.search, skip: (options.page - 1) * options.perPage, limit: options.perPage }),

    async setActive(reference: string, active: boolean) {
      const user = await find(reference);
      await users.setActive(user.id, active);
      // Disabling ends every session and revokes every app: enabling later brings no token back to life,
      // nor an interaction staged before the disable.
      if (!active) await credentials.mark(user.id);
      const cut = active ? { sessionsEnded: 0, grantsRevoked: 0 } : await sessions.cutOff(user.id);
      await changed(active ? 'admin.account_enabled' : 'admin.account_disabled', user.id, cut);
      return { user: await find(user.id), ...cut };
    },

    async setPassword(reference: string, rawPassword: string) {
      const user = await find(reference);
      const checked = policy.checkNew(rawPassword, { context: user });
      // The tool speaks English, like the rest of its output.
      if (!checked.ok) throw new AppError('invalid_input', `password: ${translate('en', checked.message.key, checked.message.params)}`);
      await users.updatePasswordHash(user.id, await hasher.hash(checked.password));
      await credentials.mark(user.id);
      const cut = await sessions.cutOff(user.id);
      await changed('admin.password_set', user.id, cut);
      return { user, ...cut };
    },

    /** A single-use password reset link for the user, e.g. to send through another channel. */
    async resetLink(reference: string) {
      const user = await find(reference);
      const link = await passwordReset.linkFor(user);
      await changed('admin.reset_link_created', user.id);
      return { user, link };
    },

    /** Sets the full name (the `name` claim), or removes it when `name` is empty. */
    async setName(reference: string, name: string) {
      const user = await find(reference);
      await users.setName(user.id, fullName(name));
      await changed('admin.name_set', user.id);
      return { user: await find(user.id) };
    },

    async verifyEmail(reference: string) {
      const user = await find(reference);
      await users.markEmailVerified(user.id, user.email);
      await changed('admin.email_verified', user.id);
      return { user: await find(user.id) };
    },

    /**
     * For a person who lost their device: every second factor and passkey goes, every session ends,
     * every app's grant is revoked, and every sign-in given before (even an interaction staged and not
     * yet resumed) no longer counts. The password stops working too (replaced by a random one nobody
     * knows): whoever has the device may have the password as well (a phone's password manager), and
     * must not be the first to set a factor up again (ASVS 5.0 6.4.4). The person gets a password reset
     * link at their verified address, or, with `printLink`, from the administrator, who hands it over
     * after checking who they are. Nothing changes when the link cannot go out.
     * @throws AppError invalid_input when the link would be emailed but the address is unverified or no
     *   mail server is configured
     */
    async resetMfa(reference: string, { printLink = false }: { printLink?: boolean } = {}) {
      const user = await find(reference);
      if (!printLink && !user.emailVerified) {
        throw new AppError(
          'invalid_input',
          `the email address of ${user.username} (${user.email}) is not verified, so a reset link sent there could reach someone else: add --print-link and give the link to the person once you know who they are`,
        );
      }
      if (!printLink && !deps.notices.canEmail) {
        throw new AppError(
          'invalid_input',
          'no mail server to send the reset link with: set SMTP_URL as the server has it, or add --print-link',
        );
      }
      const removed = await users.resetFactors(user.id);
      await users.updatePasswordHash(user.id, await hasher.hash(randomBytes(32).toString('base64url')));
      await Promise.all([credentials.mark(user.id), deps.codeFailures.clear(user.id)]);
      const cut = await sessions.cutOff(user.id);
      const link = await passwordReset.linkFor(user, { emailed: !printLink });
      await changed('admin.mfa_reset', user.id, {
        ...cut,
        passkeys: removed.passkeys,
        recoveryCodes: removed.recoveryCodes,
        link: printLink ? 'printed' : 'emailed',
      });
      if (!printLink) {
        await deps.notices.factorsReset(user, { link, minutes: deps.resetLinkMinutes }).catch((error: unknown) => {
          throw new AppError(
            'mail_failed',
            `the factors of ${user.username} were reset and the password made unusable, but the link could not be emailed (${(error as Error).message}): run reset-link and give it to them`,
          );
        });
      }
      const delivered: { link?: string; emailedTo?: string } = printLink ? { link } : { emailedTo: user.email };
      return { user: await find(user.id), removed, ...cut, ...delivered };
    },

    /** The account's security events within the retention period, newest first. */
    async events(reference: string, limit: number) {
      const user = await find(reference);
      return { user, events: await events.ofAccount(user.id, limit) };
    },

    /** The user's sign-ins through upstream identity providers. */
    async links(reference: string) {
      const user = await find(reference);
      return { user, links: await users.linksOf(user.id) };
    },

    /**
     * Removes the user's link to `upstream` (an IDP_UPSTREAMS id or an issuer); `subject` picks one
     * when there are several. Unlike the person on the account page, an administrator may remove the
     * last way in (a compromised upstream account): the person can still get a password reset link.
     */
    async unlink(reference: string, upstream: string, subject?: string) {
      const user = await find(reference);
      const matching = (await users.linksOf(user.id)).filter(
        (link) => (link.upstream === upstream || link.issuer === upstream) && (subject === undefined || link.subject === subject),
      );
      const [link, ...others] = matching;
      if (!link)
        throw new AppError('not_found', `${user.username} has no link to "${upstream}"${subject ? ` with subject "${subject}"` : ''}`, {
          status: 404,
        });
      if (others.length > 0)
        throw new AppError('invalid_input', `${user.username} has ${matching.length} links to "${upstream}": give --subject`);
      await users.removeLink(user.id, link);
      await changed('admin.upstream_unlinked', user.id, { upstream: link.upstream });
      const remaining = await users.linksOf(user.id);
      return { user, link, linksLeft: remaining.length, hasPassword: user.passwordHash !== undefined };
    },

    async delete(reference: string) {
      const user = await find(reference);
      const cut = await sessions.cutOff(user.id);
      await users.delete(user.id);
      // The deletion stays in the log; the account's stored events go with it.
      await changed('admin.account_deleted', user.id, cut);
      await events.forget(user.id);
      return { user, ...cut };
    },
  };
}

function checkedGroups(groups: string[]): string[] {
  for (const group of groups) {
    const parsed = groupNameSchema.safeParse(group);
    if (!parsed.success) throw new AppError('invalid_input', `group "${group}": ${parsed.error.issues[0]?.message}`);
  }
  const parsed = groupListSchema.safeParse([...new Set(groups)]);
  if (!parsed.success) throw new AppError('invalid_input', firstProblem(parsed.error, 'group'));
  return parsed.data;
}

function checkedClaims(claims: Record<string, ClaimValue>): Record<string, ClaimValue> {
  const parsed = claimsSchema.safeParse(claims);
  if (!parsed.success) throw new AppError('invalid_input', firstProblem(parsed.error, 'claim'));
  return parsed.data;
}

function fullName(raw: string): string | undefined {
  const parsed = parseFullName(raw);
  if (!parsed.ok) throw new AppError('invalid_input', `name: ${translate('en', parsed.error.key, parsed.error.params)}`);
  return parsed.name;
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;

import { z } from 'zod';
import type { OAuth2Upstream, Upstream } from '../config/upstreams-schema.ts';
import { normalizeEmail, parseFullName } from '../users/normalize.ts';
import { USERNAME_PATTERN } from '../users/registration-form.ts';
import { UpstreamError } from './upstream-error.ts';

/**
 * Who an upstream says signed in, reduced to what we use. Never the upstream's tokens: they stay in
 * upstream-client.ts, so nothing can pass them on.
 */
export interface UpstreamIdentity {
  /** The configured upstream (IDP_UPSTREAMS id). */
  upstream: string;
  /** With `subject`, what the link to one of our users is keyed by. */
  issuer: string;
  subject: string;
  /** Normalized; absent when the upstream gave none or an invalid one. */
  email?: string;
  /** Only true when the upstream says the address is verified AND the operator trusts it to (trustEmail). */
  emailVerified: boolean;
  name?: string;
  /** A username to propose for a new account (already in our username format), when one can be made. */
  username?: string;
}

type Claims = Record<string, unknown>;

/** The upstream's `sub`: a non-empty string (or GitHub's number) of at most 255 characters (OpenID Connect Core §2). */
function subjectOf(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  return typeof text === 'string' && text.length > 0 && text.length <= 255 && !/\p{Cc}/u.test(text) ? text : undefined;
}

function emailOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = normalizeEmail(value);
  return email.length <= 254 && z.email().safeParse(email).success ? email : undefined;
}

/** Some providers send email_verified as the string "true" (OpenID Connect Core §5.1 says boolean). */
function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

function nameOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseFullName(value);
  return parsed.ok ? parsed.name : undefined;
}

/**
 * A username in our format made from what the upstream calls the person: its preferred username
 * (GitHub's login), else the local part of the email. Characters we do not allow are dropped; too
 * short a result proposes nothing.
 */
export function proposeUsername(...candidates: unknown[]): string | undefined {
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue;
    const base = candidate.includes('@') ? (candidate.split('@')[0] ?? '') : candidate;
    const cleaned = base
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9._-]/g, '')
      .slice(0, 32);
    if (USERNAME_PATTERN.test(cleaned)) return cleaned;
  }
  return undefined;
}

function identity(settings: Upstream, issuer: string, fields: Claims, verified: boolean): UpstreamIdentity | undefined {
  const subject = subjectOf(fields.sub);
  if (!subject) return undefined;
  const email = emailOf(fields.email);
  const name = nameOf(fields.name);
  const username = proposeUsername(fields.preferred_username, email);
  return {
    upstream: settings.id,
    issuer,
    subject,
    ...(email ? { email } : {}),
    emailVerified: Boolean(email) && verified && settings.trustEmail,
    ...(name ? { name } : {}),
    ...(username ? { username } : {}),
  };
}

/** From the validated ID token merged with userinfo (the ID token's claims win). */
export function identityFromClaims(settings: Upstream, issuer: string, claims: Claims): UpstreamIdentity {
  const found = identity(settings, issuer, claims, isTrue(claims.email_verified));
  if (!found) throw new UpstreamError('no_identity', 'the ID token has no usable sub');
  return found;
}

/** A value at a dotted path of a JSON document ("id", "user.login"). */
function at(document: unknown, path: string | undefined): unknown {
  if (!path) return undefined;
  let value = document;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Claims)[key];
  }
  return value;
}

/**
 * GitHub's address list ([{ email, primary, verified }]): the primary address, else the first verified
 * one. GitHub's /user shows an email only when the person made it public, so the list is the source.
 * @see https://docs.github.com/en/rest/users/emails#list-email-addresses-for-the-authenticated-user
 */
function chooseEmail(list: unknown): { email: unknown; verified: boolean } | undefined {
  if (!Array.isArray(list)) return undefined;
  const entries = list.filter((entry): entry is Claims => typeof entry === 'object' && entry !== null);
  const chosen = entries.find((entry) => entry.primary === true) ?? entries.find((entry) => entry.verified === true);
  return chosen ? { email: chosen.email, verified: chosen.verified === true } : undefined;
}

/** From a plain OAuth 2.0 user document, mapped by the upstream's `claims` setting, and its address list when configured. */
export function identityFromGitHubShape(settings: OAuth2Upstream, issuer: string, user: unknown, emails: unknown): UpstreamIdentity {
  const { claims } = settings;
  const listed = emails === undefined ? undefined : chooseEmail(emails);
  const fields: Claims = {
    sub: at(user, claims.sub),
    preferred_username: at(user, claims.preferred_username),
    name: at(user, claims.name),
    email: listed ? listed.email : at(user, claims.email),
  };
  const verified = listed ? listed.verified : isTrue(at(user, claims.email_verified));
  const found = identity(settings, issuer, fields, verified);
  if (!found) throw new UpstreamError('no_identity', `the user document has no usable "${claims.sub}"`);
  return found;
}

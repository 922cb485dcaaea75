import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { SecurityEvents } from '../audit/security-events.ts';
import type { Config } from '../config/schema.ts';
import { AppError } from '../errors.ts';
import { RESOURCE_SCOPES, type ResourceScopes, resourceScopesProblem } from '../oidc/configuration/api-access.ts';
import { REQUIRE_MFA } from '../oidc/configuration/authentication-level.ts';
import { SCOPES } from '../oidc/configuration/claims.ts';
import type { ClientStore, StoredClient } from '../storage/ports.ts';
import { redirectUriProblem } from './redirect-uri.ts';
import type { SecretBox } from './secret-box.ts';

const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

/** What an administrator says about a client; turned into oidc-provider metadata by `toMetadata`. */
export interface ClientSpec {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  public: boolean;
  grantTypes: string[];
  scope?: string | undefined;
  logoUri?: string | undefined;
  clientUri?: string | undefined;
  policyUri?: string | undefined;
  tosUri?: string | undefined;
  /** The APIs (IDP_RESOURCES indicators) the client may get access tokens for, with their scopes. */
  resourceScopes?: ResourceScopes | undefined;
  /** Every sign-in to the client needs a second factor (metadata `require_mfa`). */
  requireMfa?: boolean | undefined;
}

export interface ClientView {
  clientId: string;
  disabled: boolean;
  hasSecret: boolean;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export type ApplyAction =
  | { action: 'create'; clientId: string; secretSource: 'generated' | 'env' | 'none' }
  | { action: 'change'; clientId: string; fields: string[] }
  | { action: 'unchanged'; clientId: string };

export type PlannedStep = ApplyAction & { entry: ApplyEntry; metadata: Record<string, unknown> };

export interface ApplyEntry {
  clientId: string;
  spec: ClientSpec;
  disabled: boolean;
  /** A confidential client's secret, taken from the environment variable the file names. */
  secret?: string | undefined;
}

export interface ClientAdminDeps {
  store: ClientStore;
  box: SecretBox;
  /** oidc-provider's own check of the metadata (Client.validate with the server's configuration). */
  validateWithProvider(metadata: Record<string, unknown>): Promise<void>;
  /** The APIs the server is configured with (IDP_RESOURCES), which resource_scopes may name. */
  apis: Config['resources'];
  /** Every change is recorded as an administrator's security event of the app. */
  events: Pick<SecurityEvents, 'record'>;
}

const newSecret = () => randomBytes(32).toString('base64url');

/**
 * The service behind `npm run clients`. Every write is validated twice, by our rules and by
 * oidc-provider's client schema, before anything is stored, so a client the tool accepts is one the
 * server accepts, and a refused one leaves nothing half-made.
 */
export function createClientAdmin({ store, box, validateWithProvider, apis, events }: ClientAdminDeps) {
  const changed = (type: Parameters<SecurityEvents['record']>[0], clientId: string, details?: Record<string, string | boolean>) =>
    events.record(type, { clientId, actor: 'admin', details });
  const view = (client: StoredClient): ClientView => ({
    clientId: client.clientId,
    disabled: client.disabled,
    hasSecret: Boolean(client.sealedSecret),
    metadata: client.metadata,
    createdAt: client.createdAt.toISOString(),
    updatedAt: client.updatedAt.toISOString(),
  });
  const get = async (clientId: string) => {
    const client = await store.find(clientId);
    if (!client) throw new AppError('not_found', `no client "${clientId}"`, { status: 404 });
    return client;
  };

  /** Our rules, then oidc-provider's; resolves to the metadata to store. */
  const checked = async (clientId: string, spec: ClientSpec): Promise<Record<string, unknown>> => {
    const metadata = toMetadata(spec, apis);
    const secret = spec.public ? {} : { client_secret: 'x'.repeat(43) };
    try {
      await validateWithProvider({ client_id: clientId, ...secret, ...metadata });
    } catch (error) {
      throw new AppError(
        'invalid_input',
        `oidc-provider refuses this client: ${(error as { error_description?: string }).error_description ?? (error as Error).message}`,
      );
    }
    return metadata;
  };

  return {
    view,
    async list() {
      return (await store.list()).map(view);
    },
    async show(clientId: string) {
      return view(await get(clientId));
    },
    async create(spec: ClientSpec, clientId = generateClientId(spec.name)) {
      assertClientId(clientId);
      const metadata = await checked(clientId, spec);
      if (await store.find(clientId)) throw new AppError('conflict', `client "${clientId}" already exists`, { status: 409 });
      const secret = spec.public ? undefined : newSecret();
      const client = await store.create({ clientId, metadata, sealedSecret: secret && box.seal(secret), disabled: false });
      await changed('admin.client_created', clientId);
      return { client: view(client), secret };
    },
    /** Replaces the spec fields given; the others stay. */
    async update(clientId: string, changes: Partial<ClientSpec>) {
      const current = await get(clientId);
      const spec = { ...fromMetadata(current.metadata), ...definedOnly(changes) };
      const metadata = await checked(clientId, spec);
      const sealedSecret = spec.public ? undefined : (current.sealedSecret ?? box.seal(newSecret()));
      const updated = await store.update(clientId, { metadata, sealedSecret });
      if (!updated) throw new AppError('not_found', `no client "${clientId}"`, { status: 404 });
      const secret = !spec.public && !current.sealedSecret && sealedSecret ? box.open(sealedSecret) : undefined;
      await changed('admin.client_updated', clientId, { fields: Object.keys(definedOnly(changes)).join(',') });
      return { client: view(updated), secret };
    },
    async rotateSecret(clientId: string) {
      const current = await get(clientId);
      if (fromMetadata(current.metadata).public) throw new AppError('invalid_input', `client "${clientId}" is public: it has no secret`);
      const secret = newSecret();
      const updated = await store.update(clientId, { sealedSecret: box.seal(secret) });
      if (!updated) throw new AppError('not_found', `no client "${clientId}"`, { status: 404 });
      await changed('admin.client_secret_rotated', clientId);
      return { client: view(updated), secret };
    },
    async setDisabled(clientId: string, disabled: boolean) {
      await get(clientId);
      const updated = await store.update(clientId, { disabled });
      if (!updated) throw new AppError('not_found', `no client "${clientId}"`, { status: 404 });
      await changed(disabled ? 'admin.client_disabled' : 'admin.client_enabled', clientId);
      return view(updated);
    },
    async delete(clientId: string) {
      await get(clientId);
      await store.delete(clientId);
      await changed('admin.client_deleted', clientId);
    },

    /**
     * Works out what `apply` would do for a file of clients, validating every entry first. Clients
     * that are in the store but not in the file are left alone.
     */
    async plan(entries: ApplyEntry[]): Promise<PlannedStep[]> {
      const seen = new Set<string>();
      const planned: PlannedStep[] = [];
      for (const entry of entries) {
        assertClientId(entry.clientId);
        if (seen.has(entry.clientId)) throw new AppError('invalid_input', `client "${entry.clientId}" appears twice in the file`);
        seen.add(entry.clientId);
        const metadata = await checked(entry.clientId, entry.spec);
        const current = await store.find(entry.clientId);
        if (!current) {
          const secretSource = entry.spec.public ? 'none' : entry.secret ? 'env' : 'generated';
          planned.push({ action: 'create', clientId: entry.clientId, secretSource, entry, metadata });
          continue;
        }
        const fields = Object.keys({ ...current.metadata, ...metadata }).filter(
          (key) => !isDeepStrictEqual(current.metadata[key], metadata[key]),
        );
        if (current.disabled !== entry.disabled) fields.push('disabled');
        const storedSecret = current.sealedSecret ? box.open(current.sealedSecret) : undefined;
        if (entry.spec.public ? storedSecret !== undefined : entry.secret !== undefined && entry.secret !== storedSecret)
          fields.push('client_secret');
        if (!entry.spec.public && storedSecret === undefined && entry.secret === undefined) fields.push('client_secret');
        planned.push(
          fields.length > 0
            ? { action: 'change', clientId: entry.clientId, fields, entry, metadata }
            : { action: 'unchanged', clientId: entry.clientId, entry, metadata },
        );
      }
      return planned;
    },

    /** Carries out a plan; returns the secrets it generated (to print once). */
    async apply(planned: PlannedStep[]): Promise<Record<string, string>> {
      const generated: Record<string, string> = {};
      for (const step of planned) {
        const { entry, metadata } = step;
        const secretFor = () => {
          if (entry.spec.public) return undefined;
          if (entry.secret) return entry.secret;
          const secret = newSecret();
          generated[entry.clientId] = secret;
          return secret;
        };
        if (step.action === 'create') {
          const secret = secretFor();
          await store.create({ clientId: entry.clientId, metadata, sealedSecret: secret && box.seal(secret), disabled: entry.disabled });
          await changed('admin.client_created', entry.clientId, { from: 'apply' });
        } else if (step.action === 'change') {
          const changes: Parameters<ClientStore['update']>[1] = { metadata, disabled: entry.disabled };
          if (step.fields.includes('client_secret')) {
            const secret = secretFor();
            changes.sealedSecret = secret && box.seal(secret);
          }
          await store.update(entry.clientId, changes);
          await changed('admin.client_updated', entry.clientId, { from: 'apply', fields: step.fields.join(',') });
        }
      }
      return generated;
    },
  };
}

export type ClientAdmin = ReturnType<typeof createClientAdmin>;

/** oidc-provider client metadata for a spec, after our own rules (RFC 9700 §2.1, §2.6). */
export function toMetadata(spec: ClientSpec, apis: Config['resources'] = []): Record<string, unknown> {
  if (!spec.name.trim()) throw new AppError('invalid_input', 'a client needs a name (--name)');
  const grantTypes = [...new Set(spec.grantTypes.length > 0 ? spec.grantTypes : ['authorization_code'])];
  for (const grantType of grantTypes) {
    if (!(GRANT_TYPES as readonly string[]).includes(grantType)) {
      throw new AppError('invalid_input', `unknown grant type "${grantType}"; use ${GRANT_TYPES.join(', ')}`);
    }
  }
  const code = grantTypes.includes('authorization_code');
  if (grantTypes.includes('refresh_token') && !code) throw new AppError('invalid_input', 'refresh_token needs authorization_code too');
  if (spec.public && grantTypes.includes('client_credentials'))
    throw new AppError('invalid_input', 'a public client cannot use client_credentials: it has no secret');
  if (code && spec.redirectUris.length === 0)
    throw new AppError('invalid_input', 'a client that signs people in needs at least one --redirect-uri');
  if (!code && spec.redirectUris.length > 0)
    throw new AppError('invalid_input', 'redirect URIs are only for clients with the authorization_code grant');
  for (const uri of [...spec.redirectUris, ...spec.postLogoutRedirectUris]) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new AppError('invalid_input', `redirect URI ${problem}`);
  }
  for (const [flag, uri] of [
    ['--logo-uri', spec.logoUri],
    ['--client-uri', spec.clientUri],
    ['--policy-uri', spec.policyUri],
    ['--tos-uri', spec.tosUri],
  ] as const) {
    if (uri !== undefined && !/^https:\/\/[^\s]+$/.test(uri))
      throw new AppError('invalid_input', `${flag} must be an https URL, got "${uri}"`);
  }
  const scopes = spec.scope?.split(/\s+/).filter(Boolean) ?? [];
  for (const scope of scopes)
    if (!SCOPES.includes(scope)) throw new AppError('invalid_input', `unknown scope "${scope}"; use ${SCOPES.join(', ')}`);
  const resourceScopes = spec.resourceScopes && spec.resourceScopes.length > 0 ? spec.resourceScopes : undefined;
  const apiProblem = resourceScopesProblem(resourceScopes, apis);
  if (apiProblem) throw new AppError('invalid_input', apiProblem);

  return Object.fromEntries(
    Object.entries({
      client_name: spec.name.trim(),
      redirect_uris: spec.redirectUris,
      post_logout_redirect_uris: spec.postLogoutRedirectUris,
      grant_types: grantTypes,
      response_types: code ? ['code'] : [],
      token_endpoint_auth_method: spec.public ? 'none' : 'client_secret_basic',
      scope: scopes.length > 0 ? scopes.join(' ') : undefined,
      logo_uri: spec.logoUri,
      client_uri: spec.clientUri,
      policy_uri: spec.policyUri,
      tos_uri: spec.tosUri,
      [RESOURCE_SCOPES]: resourceScopes,
      [REQUIRE_MFA]: spec.requireMfa ? true : undefined,
    }).filter(([, value]) => value !== undefined),
  );
}

function fromMetadata(metadata: Record<string, unknown>): ClientSpec {
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    name: text(metadata.client_name) ?? '',
    redirectUris: strings(metadata.redirect_uris),
    postLogoutRedirectUris: strings(metadata.post_logout_redirect_uris),
    public: metadata.token_endpoint_auth_method === 'none',
    grantTypes: strings(metadata.grant_types),
    scope: text(metadata.scope),
    logoUri: text(metadata.logo_uri),
    clientUri: text(metadata.client_uri),
    policyUri: text(metadata.policy_uri),
    tosUri: text(metadata.tos_uri),
    resourceScopes: metadata[RESOURCE_SCOPES] as ResourceScopes | undefined,
    requireMfa: metadata[REQUIRE_MFA] === true,
  };
}

/** The fields of `value` that are set, so they can replace others without erasing any. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}

function assertClientId(clientId: string): void {
  if (!/^[A-Za-z0-9._-]{3,64}$/.test(clientId)) {
    throw new AppError('invalid_input', `client id "${clientId}" must be 3 to 64 letters, digits, dot, underscore or hyphen`);
  }
}

/** A readable, unguessable id: the name as a slug plus random characters. */
function generateClientId(name: string): string {
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'client';
  return `${slug}-${randomBytes(6).toString('hex')}`;
}

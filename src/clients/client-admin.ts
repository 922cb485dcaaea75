import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { SecurityEvents } from '../audit/security-events.ts';
import type { Config } from '../config/schema.ts';
import { AppError } from '../errors.ts';
import { SCOPES } from '../oidc/configuration/claims.ts';
import type { ClientStore, StoredClient } from '../storage/ports.ts';
import { authMethodOf, type ClientSpec, fromMetadata, toMetadata, usesSecret } from './client-spec.ts';
import type { SecretBox } from './secret-box.ts';

export type { ClientSpec } from './client-spec.ts';

export interface ClientView {
  clientId: string;
  disabled: boolean;
  hasSecret: boolean;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export type ApplyAction =
  | { action: 'create'; clientId: string; secretSource: 'generated' | 'given' | 'none' }
  | { action: 'change'; clientId: string; fields: string[] }
  | { action: 'unchanged'; clientId: string };

export type PlannedStep = ApplyAction & { entry: ApplyEntry; metadata: Record<string, unknown> };

export interface ApplyEntry {
  clientId: string;
  spec: ClientSpec;
  disabled: boolean;
  /** A confidential client's secret, from the file or the environment variable it names. */
  secret?: string | undefined;
}

export interface ClientAdminDeps {
  store: ClientStore;
  box: SecretBox;
  /** oidc-provider's own check of the metadata (Client.validate with the server's configuration). */
  validateWithProvider(metadata: Record<string, unknown>): Promise<void>;
  /** The APIs the server is configured with (IDP_RESOURCES), which resource_scopes may name. */
  apis: Config['resources'];
  /** The OpenID Connect scopes the server offers (the standard ones and those of extra claims). */
  scopes?: string[];
  /** Every change is recorded as an administrator's security event of the app. */
  events: Pick<SecurityEvents, 'record'>;
}

const newSecret = () => randomBytes(32).toString('base64url');

/**
 * The service behind `npm run clients`. Every write is validated twice, by our rules and by
 * oidc-provider's client schema, before anything is stored, so a client the tool accepts is one the
 * server accepts, and a refused one leaves nothing half-made.
 */
export function createClientAdmin({ store, box, validateWithProvider, apis, scopes = SCOPES, events }: ClientAdminDeps) {
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
    const metadata = toMetadata(spec, apis, scopes);
    const secret = usesSecret(authMethodOf(spec)) ? { client_secret: 'x'.repeat(43) } : {};
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
      const secret = usesSecret(authMethodOf(spec)) ? newSecret() : undefined;
      const client = await store.create({ clientId, metadata, sealedSecret: secret && box.seal(secret), disabled: false });
      await changed('admin.client_created', clientId);
      return { client: view(client), secret };
    },
    /** Replaces the spec fields given; the others stay. */
    async update(clientId: string, changes: Partial<ClientSpec>) {
      const current = await get(clientId);
      const spec = { ...fromMetadata(current.metadata), ...definedOnly(changes) };
      // Moving away from private_key_jwt drops the keys it registered, unless new ones are given (and refused).
      if (changes.authMethod !== undefined && changes.authMethod !== 'private_key_jwt') {
        spec.jwks = changes.jwks;
        spec.jwksUri = changes.jwksUri;
      }
      // Removing the back-channel logout URI removes its session flag too, unless it is given again (and refused).
      if (changes.backchannelLogoutUri === '') spec.backchannelLogoutSessionRequired = changes.backchannelLogoutSessionRequired;
      const metadata = await checked(clientId, spec);
      const keepsSecret = usesSecret(authMethodOf(spec));
      const sealedSecret = keepsSecret ? (current.sealedSecret ?? box.seal(newSecret())) : undefined;
      const updated = await store.update(clientId, { metadata, sealedSecret });
      if (!updated) throw new AppError('not_found', `no client "${clientId}"`, { status: 404 });
      const secret = keepsSecret && !current.sealedSecret && sealedSecret ? box.open(sealedSecret) : undefined;
      await changed('admin.client_updated', clientId, { fields: Object.keys(definedOnly(changes)).join(',') });
      return { client: view(updated), secret };
    },
    async rotateSecret(clientId: string) {
      const current = await get(clientId);
      const method = authMethodOf(fromMetadata(current.metadata));
      if (!usesSecret(method)) throw new AppError('invalid_input', `client "${clientId}" authenticates with ${method}: it has no secret`);
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
          const secretSource = !usesSecret(authMethodOf(entry.spec)) ? 'none' : entry.secret ? 'given' : 'generated';
          planned.push({ action: 'create', clientId: entry.clientId, secretSource, entry, metadata });
          continue;
        }
        const fields = Object.keys({ ...current.metadata, ...metadata }).filter(
          (key) => !isDeepStrictEqual(current.metadata[key], metadata[key]),
        );
        if (current.disabled !== entry.disabled) fields.push('disabled');
        const storedSecret = current.sealedSecret ? box.open(current.sealedSecret) : undefined;
        const secretless = !usesSecret(authMethodOf(entry.spec));
        if (secretless ? storedSecret !== undefined : entry.secret !== undefined && entry.secret !== storedSecret)
          fields.push('client_secret');
        if (!secretless && storedSecret === undefined && entry.secret === undefined) fields.push('client_secret');
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
          if (!usesSecret(authMethodOf(entry.spec))) return undefined;
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

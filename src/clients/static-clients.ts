import type { ClientMetadata } from 'oidc-provider';
import { redirectUriProblem } from './redirect-uri.ts';

export type StaticClientsResult = { ok: true; clients: ClientMetadata[] } | { ok: false; error: string };

/**
 * Parses the clients file (a JSON array of oidc-provider client metadata). oidc-provider validates
 * the full metadata when the server starts; this adds our own rules for redirect URIs.
 */
export function parseStaticClients(text: string): StaticClientsResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `is not valid JSON (${(error as Error).message})` };
  }
  if (!Array.isArray(value)) return { ok: false, error: 'must hold a JSON array of client objects' };
  const seen = new Set<string>();
  for (const [index, entry] of value.entries()) {
    if (typeof entry !== 'object' || entry === null) return { ok: false, error: `entry ${index} is not an object` };
    const { client_id: clientId, redirect_uris: redirectUris, post_logout_redirect_uris: logoutUris } = entry as Record<string, unknown>;
    if (typeof clientId !== 'string' || clientId === '') return { ok: false, error: `entry ${index} needs a client_id` };
    if (seen.has(clientId)) return { ok: false, error: `client_id "${clientId}" appears twice` };
    seen.add(clientId);
    for (const uri of [...asArray(redirectUris), ...asArray(logoutUris)]) {
      const problem = typeof uri === 'string' ? redirectUriProblem(uri) : 'redirect URIs must be strings';
      if (problem) return { ok: false, error: `client "${clientId}": ${problem}` };
    }
  }
  return { ok: true, clients: value as ClientMetadata[] };
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

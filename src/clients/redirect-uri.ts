/** Hosts for which plain http is acceptable: the RFC 8252 §7.3 loopback exception. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why a redirect URI cannot be registered, or undefined if it can: absolute, no fragment
 * (RFC 6749 §3.1.2), and https unless it points at the loopback interface (RFC 9700 §2.6).
 * Matching is exact string comparison, done by oidc-provider.
 */
export function redirectUriProblem(value: string): string | undefined {
  return webUrlProblem(value, { privateUseSchemes: true });
}

/**
 * Why `value` is not an https URL (or http on the loopback interface) without a fragment, or
 * undefined when it is: the rule for every URL a client registers. A redirect URI may also use a
 * native app's private-use scheme (RFC 8252 §7.1); an endpoint we call (back-channel logout, JWKS)
 * may not.
 */
export function webUrlProblem(value: string, { privateUseSchemes = false }: { privateUseSchemes?: boolean } = {}): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URL`;
  }
  if (value.includes('#')) return `"${value}" must not contain a fragment (#)`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(url.hostname) ? undefined : `"${value}" must use https (plain http is only allowed for localhost)`;
  }
  if (!privateUseSchemes) return `"${value}" must use https (plain http is only allowed for localhost)`;
  // Private-use schemes of native apps (RFC 8252 §7.1) look like com.example.app:/callback.
  if (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) return undefined;
  return `"${value}" must use https`;
}

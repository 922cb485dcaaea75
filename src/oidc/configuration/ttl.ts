import type { Configuration } from 'oidc-provider';
import type { Config } from '../../config/schema.ts';

/**
 * Lifetimes of everything oidc-provider stores; every one is set so none falls back to a library
 * default. Functions must be synchronous (oidc-provider rejects async ttl functions).
 */
export function ttlConfiguration(ttl: Config['ttl']): NonNullable<Configuration['ttl']> {
  return {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.accessToken,
    AuthorizationCode: ttl.authorizationCode,
    ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.accessToken,
    DeviceCode: 600,
    BackchannelAuthenticationRequest: 600,
    IdToken: ttl.idToken,
    Interaction: ttl.interaction,
    Session(_ctx, session) {
      // oidc-provider saves an existing session, with this lifetime, on every request that passes
      // through it, so this is the idle timeout; it never runs past the absolute lifetime counted
      // from sign-in (ASVS 5.0 7.3.1, 7.3.2; NIST SP 800-63B-4: at most 30 days at AAL1).
      if (!session.loginTs) return ttl.sessionIdle;
      const remaining = session.loginTs + ttl.session - Math.floor(Date.now() / 1000);
      return Math.max(1, Math.min(ttl.sessionIdle, remaining));
    },
    Grant: ttl.grant,
    RefreshToken(ctx, token, client) {
      // A rotated refresh token of a public browser client never outlives the one it replaced
      // (RFC 9700 §4.14.2), as in oidc-provider's default.
      const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
      if (rotated && client.applicationType === 'web' && client.clientAuthMethod === 'none' && !token.isSenderConstrained()) {
        return rotated.remainingTTL;
      }
      return ttl.refreshToken;
    },
  };
}

import type { ClientMetadata } from 'oidc-provider';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logging/create-logger.ts';
import { createProvider } from '../../src/oidc/create-provider.ts';
import { generateKeySet } from '../../src/oidc/keys.ts';
import type { Stores } from '../../src/storage/ports.ts';

/** oidc-provider's client validation with the server's own configuration. */
export async function providerValidator(config: Config, stores: Stores) {
  const keys = config.jwks && config.cookieKeys ? undefined : await generateKeySet();
  const provider = createProvider({
    config,
    jwks: config.jwks ?? (keys?.jwks as NonNullable<Config['jwks']>),
    cookieKeys: config.cookieKeys ?? keys?.cookieKeys ?? [],
    adapter: stores.oidcAdapter,
    findAccount: async () => undefined,
    clients: [],
    logger: createLogger('silent'),
  });
  return async (metadata: Record<string, unknown>) => {
    await provider.Client.validate(metadata as ClientMetadata);
  };
}

import type { Configuration } from 'oidc-provider';

export type ExtraClientMetadata = NonNullable<Configuration['extraClientMetadata']>;

/**
 * oidc-provider takes one `extraClientMetadata` (property names and one validator); each concern
 * (API access, first-party apps, ...) brings its own share, joined here. Each validator sees only
 * its own properties.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#extraclientmetadata
 */
export function joinClientMetadata(...parts: ExtraClientMetadata[]): ExtraClientMetadata {
  return {
    properties: parts.flatMap((part) => part.properties ?? []),
    validator: (ctx, key, value, metadata) => {
      for (const part of parts) if (part.properties?.includes(key)) part.validator?.(ctx, key, value, metadata);
    },
  };
}

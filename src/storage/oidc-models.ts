/**
 * Facts about oidc-provider's stored models that every adapter needs.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#adapter
 */

/** Models whose records are redeemed once (`consume`). */
export const CONSUMABLE_MODELS: ReadonlySet<string> = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
  'PreAuthorizedCode',
]);

/** Thrown by `consume` when the record was already consumed or no longer exists. */
export class AlreadyConsumedError extends Error {
  readonly model: string;
  readonly id: string;

  constructor(model: string, id: string) {
    super(`${model} record was already consumed or no longer exists`);
    this.name = 'AlreadyConsumedError';
    this.model = model;
    this.id = id;
  }
}

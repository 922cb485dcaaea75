import { AppError } from '../errors.ts';

/**
 * Thrown by an adapter's `consume` when the record was already consumed or no longer exists; the
 * consume guard (src/oidc/consume-guard.ts) treats it as a replay.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#adapter
 */
export class AlreadyConsumedError extends AppError {
  readonly model: string;
  readonly id: string;

  constructor(model: string, id: string) {
    super('already_consumed', `${model} record was already consumed or no longer exists`);
    this.name = 'AlreadyConsumedError';
    this.model = model;
    this.id = id;
  }
}

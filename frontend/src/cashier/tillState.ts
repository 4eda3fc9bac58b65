import type { RewardErrorCode } from '../gql/graphql';

/** What the result panel shows (also its `data-state`). */
export type TillState = 'valid' | 'used' | 'expired' | 'cancelled' | 'invalid' | 'consumed' | 'error';

const STATE_OF_CODE: Partial<Record<RewardErrorCode, TillState>> = {
  CODE_ALREADY_USED: 'used',
  CODE_EXPIRED: 'expired',
  CODE_CANCELLED: 'cancelled',
  CODE_INVALID: 'invalid',
  NOT_FOUND: 'invalid',
  // A malformed code (wrong length, bad symbols) is just as unusable as an unknown one.
  INVALID_INPUT: 'invalid',
};

/** The panel state for a refusal: used / expired / cancelled / invalid, else a plain error. */
export function stateOfError(code: string): TillState {
  return STATE_OF_CODE[code as RewardErrorCode] ?? 'error';
}

/** Panel colour per state. */
export const STATE_COLORS: Record<TillState, string> = {
  valid: 'teal',
  consumed: 'teal',
  used: 'orange',
  expired: 'orange',
  cancelled: 'red',
  invalid: 'red',
  error: 'red',
};

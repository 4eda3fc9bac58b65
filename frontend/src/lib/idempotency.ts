import { useCallback, useRef } from 'react';

/**
 * One idempotency key per user action: the same key is reused while the action is retried
 * (network failure, double click) and replaced once the action has succeeded.
 */
export function useIdempotencyKey(): { key: () => string; reset: () => void } {
  const ref = useRef<string | null>(null);
  const key = useCallback(() => (ref.current ??= crypto.randomUUID()), []);
  const reset = useCallback(() => {
    ref.current = null;
  }, []);
  return { key, reset };
}

import { useEffect, useRef } from 'react';
import { onReconnect } from './client';

/**
 * Runs `refetch` whenever the subscription socket reconnects: events sent while it was down
 * are lost, so the view reloads what it shows.
 */
export function useRefetchOnReconnect(refetch: () => void): void {
  const latest = useRef(refetch);
  useEffect(() => {
    latest.current = refetch;
  });
  useEffect(() => onReconnect(() => latest.current()), []);
}

/** Typenames a live account event invalidates in urql's document cache. */
export const LIVE_ACCOUNT_TYPENAMES = ['MemberAccount', 'PointsEntry', 'Redemption'];

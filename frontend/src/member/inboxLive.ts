/**
 * New inbox messages as the live account updates announce them (`accountUpdated` with kind
 * "inbox"): the account's inbox listens and refetches.
 */
type InboxListener = (accountId: string) => void;

const listeners = new Set<InboxListener>();

/** Tells the inboxes on screen that `accountId` got a message. */
export function announceInboxMessage(accountId: string): void {
  for (const listener of listeners) listener(accountId);
}

/** Calls `listener` on every new inbox message; returns the unsubscribe function. */
export function onInboxMessage(listener: InboxListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

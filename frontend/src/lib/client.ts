import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

/** Path of the GraphQL endpoint (HTTP and WebSocket); same origin as the dashboard. */
export const GRAPHQL_PATH = '/graphql/';

/** Reads a cookie of the current document; undefined when absent. */
export function readCookie(name: string): string | undefined {
  const prefix = `${name}=`;
  for (const part of document.cookie.split(';')) {
    const trimmed = part.trim();
    if (trimmed.startsWith(prefix)) return decodeURIComponent(trimmed.slice(prefix.length));
  }
  return undefined;
}

let csrfRequest: Promise<void> | null = null;

/**
 * Makes sure the `csrftoken` cookie exists: Django sets it on `GET /graphql/`, and every POST
 * must echo it in `X-CSRFToken`. Concurrent callers share one request.
 */
export function ensureCsrf(): Promise<void> {
  if (readCookie('csrftoken')) return Promise.resolve();
  csrfRequest ??= fetch(GRAPHQL_PATH, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
    .then(() => undefined)
    .finally(() => {
      csrfRequest = null;
    });
  return csrfRequest;
}

type ReconnectListener = () => void;
const reconnectListeners = new Set<ReconnectListener>();

/**
 * Calls `listener` whenever the subscription socket connects again after having been
 * connected before: delivery is best-effort, so views refetch what they may have missed.
 * Returns the unsubscribe function.
 */
export function onReconnect(listener: ReconnectListener): () => void {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}

function websocketUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${GRAPHQL_PATH}`;
}

function createSocket(): WsClient {
  let connectedBefore = false;
  return createWsClient({
    url: websocketUrl(),
    lazy: true,
    // Keep retrying: a member's page stays open for hours across server restarts.
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: {
      connected: () => {
        if (connectedBefore) reconnectListeners.forEach((listener) => listener());
        connectedBefore = true;
      },
    },
  });
}

/**
 * Creates the urql client: document cache, fetch with the session cookie and CSRF header, and
 * graphql-ws subscriptions. The socket authenticates from the session cookie when it opens, so
 * create a new client after login or logout.
 */
export function createClient(): Client & { dispose: () => void } {
  let socket: WsClient | null = null;
  const client = new Client({
    url: GRAPHQL_PATH,
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              socket ??= createSocket();
              const unsubscribe = socket.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    fetchOptions: (): RequestInit => {
      const token = readCookie('csrftoken');
      const headers: Record<string, string> = token ? { 'X-CSRFToken': token } : {};
      return { credentials: 'same-origin', headers };
    },
  });
  const dispose = () => {
    void socket?.dispose();
    socket = null;
  };
  return Object.assign(client, { dispose });
}

/** The urql client plus a way to close its socket. */
export type PatronClient = ReturnType<typeof createClient>;

import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from 'urql';
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

/** Close code of a socket whose `connection_init` credential the server refused (config/consumers.py). */
export const CLOSE_CREDENTIAL_REFUSED = 4403;

/** Code reported for a socket refused with 4403 (the protocol carries no error code). */
export const SOCKET_TOKEN_REFUSED = 'SOCKET_REFUSED';

function isCloseEvent(value: unknown): value is { code: number } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number';
}

/**
 * `extensions.code` of a refused bearer credential (`TOKEN_EXPIRED`, `TOKEN_INVALID`, ...), or
 * undefined. The server refuses with HTTP 401 and a GraphQL-shaped body, which urql reads as
 * GraphQL errors.
 */
export function tokenRefusalCode(error: CombinedError | undefined): string | undefined {
  const code = error?.graphQLErrors[0]?.extensions?.code;
  return typeof code === 'string' && code.startsWith('TOKEN_') ? code : undefined;
}

function createSocket(token: string | null, onTokenRefused?: (code: string) => void): WsClient {
  let connectedBefore = false;
  return createWsClient({
    url: websocketUrl(),
    lazy: true,
    // A member token goes in `connection_init`; without one the socket uses the session cookie.
    connectionParams: token ? { Authorization: `Bearer ${token}` } : undefined,
    // Keep retrying: a member's page stays open for hours across server restarts. A refused
    // token stays refused, though: stop and let the page say so.
    retryAttempts: Infinity,
    shouldRetry: (event) => !(token && isCloseEvent(event) && event.code === CLOSE_CREDENTIAL_REFUSED),
    on: {
      connected: () => {
        if (connectedBefore) reconnectListeners.forEach((listener) => listener());
        connectedBefore = true;
      },
      closed: (event) => {
        if (token && isCloseEvent(event) && event.code === CLOSE_CREDENTIAL_REFUSED) onTokenRefused?.(SOCKET_TOKEN_REFUSED);
      },
    },
  });
}

/** Options of createClient. */
export interface ClientOptions {
  /**
   * A storefront member token (token mode): sent as `Authorization: Bearer` on every request
   * and in the socket's `connection_init`; no cookie and no CSRF token.
   */
  token?: string | null;
  /** Called when the server refuses the token (HTTP 401 `TOKEN_*`, or a socket closed with 4403). */
  onTokenRefused?: (code: string) => void;
}

/**
 * Creates the urql client: document cache, fetch with the session cookie and CSRF header (or,
 * in token mode, the member token), and graphql-ws subscriptions. The socket authenticates when
 * it opens, so create a new client after login, logout or a new token.
 */
export function createClient({ token = null, onTokenRefused }: ClientOptions = {}): Client & { dispose: () => void } {
  let socket: WsClient | null = null;
  const client = new Client({
    url: GRAPHQL_PATH,
    exchanges: [
      cacheExchange,
      mapExchange({
        onResult(result) {
          const code = token ? tokenRefusalCode(result.error) : undefined;
          if (code) onTokenRefused?.(code);
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              socket ??= createSocket(token, onTokenRefused);
              const unsubscribe = socket.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    fetchOptions: (): RequestInit => {
      // The bearer header is the whole credential: no cookie, so no CSRF check either.
      if (token) return { credentials: 'omit', headers: { Authorization: `Bearer ${token}` } };
      const csrf = readCookie('csrftoken');
      const headers: Record<string, string> = csrf ? { 'X-CSRFToken': csrf } : {};
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

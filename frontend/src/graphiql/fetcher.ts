import { createGraphiQLFetcher, type Fetcher, type FetcherOpts, type FetcherParams } from '@graphiql/toolkit';
import { Kind, parse, type DocumentNode } from 'graphql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { GRAPHQL_PATH, ensureCsrf, readCookie } from '../lib/client';

/**
 * What the query editor shows on a first visit: a query that works without logging in, so that
 * "run" answers something useful straight away.
 */
export const DEFAULT_QUERY = `# Patron's GraphQL API: run with ▶ (or Ctrl-Enter).
# Log in with the login mutation, or put
#   {"Authorization": "Bearer <key>"}
# in the Headers tab below.
query {
  shops(first: 5) {
    edges {
      node {
        id
        name
        slug
      }
    }
  }
}
`;

/**
 * fetch with the session: the cookie (`credentials: 'same-origin'`) and, on a POST, the
 * `X-CSRFToken` header Django's CSRF check wants. The cookie is read at each request, not once,
 * because logging in rotates it.
 */
export async function csrfFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if ((init.method ?? 'GET').toUpperCase() === 'POST') {
    // GraphiQL is served by the view that sets the cookie; ensureCsrf only matters when the
    // cookie was cleared since (it GETs /graphql/ again).
    await ensureCsrf();
    const token = readCookie('csrftoken');
    if (token) headers.set('X-CSRFToken', token);
  }
  return fetch(input, { ...init, headers, credentials: 'same-origin' });
}

/** The WebSocket URL of the GraphQL endpoint on the page's own host (wss under https). */
export function websocketUrl(location: Pick<Location, 'protocol' | 'host'> = window.location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL_PATH}`;
}

/** The `Authorization` header of GraphiQL's headers editor (any letter case), if any. */
export function authorizationOf(headers: FetcherOpts['headers']): string | undefined {
  if (!headers) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'authorization' && typeof value === 'string' && value) return value;
  }
  return undefined;
}

/**
 * The request as the editor holds it now. GraphiQL passes the parsed document and operation
 * name it last derived from the editor, on a debounce: a query typed (or pasted) and run at once
 * would go with the previous ones, e.g. a subscription sent over HTTP because the last document
 * was a mutation, or refused as an unknown operation. So the fetcher parses the text it sends;
 * text that does not parse goes as it is (the server reports the syntax error).
 */
export function currentRequest(params: FetcherParams, opts?: FetcherOpts): [FetcherParams, FetcherOpts] {
  let documentAST: DocumentNode;
  try {
    documentAST = parse(params.query);
  } catch {
    return [params, { ...opts, documentAST: undefined }];
  }
  const names = documentAST.definitions.flatMap((definition) =>
    definition.kind === Kind.OPERATION_DEFINITION ? [definition.name?.value] : [],
  );
  // A name that is no longer in the text is stale: with one operation left, that one runs.
  const stale = params.operationName && !names.includes(params.operationName) && names.length === 1;
  return [stale ? { ...params, operationName: names[0] ?? null } : params, { ...opts, documentAST }];
}

/** How the GraphiQL fetcher reaches the server; tests replace the socket factory. */
export type PatronFetcherOptions = {
  url?: string;
  subscriptionUrl?: string;
  createSocket?: (connectionParams: Record<string, string>) => WsClient;
};

/**
 * GraphiQL's fetcher: queries and mutations over HTTP POST to /graphql/ with the session cookie
 * and CSRF header (plus whatever the headers editor holds, e.g. `Authorization: Bearer ...`),
 * subscriptions over graphql-ws on the same host.
 *
 * A socket authenticates once, when it opens (connection_init), so its `connectionParams` carry
 * the editor's `Authorization` and nothing else (other headers mean nothing to the server
 * there); without it, the socket authenticates from the session cookie. So when that header
 * changes, or the session does (Django rotates the csrftoken cookie at login), the old socket
 * is closed and the next subscription opens one as the new identity.
 */
export function createPatronFetcher(options: PatronFetcherOptions = {}): Fetcher {
  const url = options.url ?? GRAPHQL_PATH;
  const subscriptionUrl = options.subscriptionUrl ?? websocketUrl();
  const createSocket =
    options.createSocket ??
    ((connectionParams: Record<string, string>) =>
      // lazy: nothing connects until a subscription runs, so building a client costs nothing.
      createWsClient({ url: subscriptionUrl, lazy: true, connectionParams }));

  let current: { identity: string; socket: WsClient; fetcher: Fetcher } | null = null;

  const fetcherFor = (authorization: string | undefined): Fetcher => {
    const identity = JSON.stringify([authorization ?? null, readCookie('csrftoken') ?? null]);
    if (current && current.identity === identity) return current.fetcher;
    if (current) void current.socket.dispose();
    const socket = createSocket(authorization ? { Authorization: authorization } : {});
    const fetcher = createGraphiQLFetcher({
      url,
      fetch: csrfFetch,
      wsClient: socket,
      // The server answers plain JSON; multipart parsing would only add a code path.
      enableIncrementalDelivery: false,
    });
    current = { identity, socket, fetcher };
    return fetcher;
  };

  return (params, opts) => {
    // Introspection (GraphiQL's schema fetch) is not from the editor; it passes as it is.
    const [request, requestOpts] =
      params.operationName === 'IntrospectionQuery' ? [params, opts] : currentRequest(params, opts);
    return fetcherFor(authorizationOf(opts?.headers))(request, requestOpts);
  };
}

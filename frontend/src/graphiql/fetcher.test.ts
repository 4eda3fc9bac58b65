import { parse } from 'graphql';
import type { Client as WsClient, Sink } from 'graphql-ws';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { authorizationOf, createPatronFetcher, csrfFetch, currentRequest, websocketUrl } from './fetcher';

function setCookie(value: string): void {
  document.cookie = `csrftoken=${value}; path=/`;
}

function jsonResponse(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });
}

/** The init (method, headers, credentials) of the n-th fetch call. */
function callInit(fetchMock: ReturnType<typeof vi.fn>, index = 0): RequestInit & { headers: Headers } {
  return fetchMock.mock.calls[index][1] as RequestInit & { headers: Headers };
}

/** A graphql-ws client double: answers each subscription with one event; keeps its params. */
function fakeSocket(connectionParams: Record<string, string>) {
  const socket = {
    connectionParams,
    dispose: vi.fn(),
    subscribe: vi.fn((_payload: unknown, sink: Sink) => {
      // Later, as a real socket does: the event comes once the server answers.
      setTimeout(() => {
        sink.next({ data: { accountUpdated: { ok: true } } });
        sink.complete();
      });
      return () => {};
    }),
  };
  return socket as unknown as WsClient & typeof socket;
}

async function collect(result: unknown): Promise<unknown[]> {
  const events: unknown[] = [];
  for await (const event of result as AsyncIterable<unknown>) events.push(event);
  return events;
}

let fetchMock: ReturnType<typeof vi.fn>;

beforeEach(() => {
  fetchMock = vi.fn(async () => jsonResponse({ data: { __typename: 'Query' } }));
  vi.stubGlobal('fetch', fetchMock);
  setCookie('first-token');
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('csrfFetch', () => {
  it('sends the current csrftoken cookie on each POST, with the session cookie', async () => {
    await csrfFetch('/graphql/', { method: 'POST', body: '{}' });
    // login rotates the token: the next POST must carry the new one, not a copy taken earlier
    setCookie('rotated-token');
    await csrfFetch('/graphql/', { method: 'POST', body: '{}' });

    expect(callInit(fetchMock, 0).headers.get('X-CSRFToken')).toBe('first-token');
    expect(callInit(fetchMock, 1).headers.get('X-CSRFToken')).toBe('rotated-token');
    expect(callInit(fetchMock, 1).credentials).toBe('same-origin');
  });

  it('adds no token to a GET', async () => {
    await csrfFetch('/graphql/?query=%7B__typename%7D');
    expect(callInit(fetchMock).headers.has('X-CSRFToken')).toBe(false);
    expect(callInit(fetchMock).credentials).toBe('same-origin');
  });
});

describe('websocketUrl and authorizationOf', () => {
  it('uses the page host, wss under https', () => {
    expect(websocketUrl({ protocol: 'http:', host: '127.0.0.1:8000' })).toBe('ws://127.0.0.1:8000/graphql/');
    expect(websocketUrl({ protocol: 'https:', host: 'patron.example' })).toBe('wss://patron.example/graphql/');
  });

  it('finds the Authorization header in any letter case', () => {
    expect(authorizationOf({ authorization: 'Bearer k1' })).toBe('Bearer k1');
    expect(authorizationOf({ Authorization: 'Bearer k2', 'X-Other': '1' })).toBe('Bearer k2');
    expect(authorizationOf({ 'X-Other': '1' })).toBeUndefined();
    expect(authorizationOf(undefined)).toBeUndefined();
  });
});

describe('createPatronFetcher', () => {
  it('posts queries to /graphql/ with the CSRF token and the headers editor', async () => {
    const fetcher = createPatronFetcher({ createSocket: fakeSocket });
    const query = '{ __typename }';

    const result = await fetcher(
      { query },
      { headers: { Authorization: 'Bearer key-1' }, documentAST: parse(query) },
    );

    expect(result).toEqual({ data: { __typename: 'Query' } });
    expect(fetchMock.mock.calls[0][0]).toBe('/graphql/');
    const init = callInit(fetchMock);
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
    expect(init.headers.get('X-CSRFToken')).toBe('first-token');
    expect(init.headers.get('Authorization')).toBe('Bearer key-1');
    expect(JSON.parse(init.body as string)).toEqual({ query });
  });

  it('runs subscriptions over graphql-ws with the Authorization as connectionParams', async () => {
    const sockets: ReturnType<typeof fakeSocket>[] = [];
    const fetcher = createPatronFetcher({
      createSocket: (params) => {
        const socket = fakeSocket(params);
        sockets.push(socket);
        return socket;
      },
    });
    const query = 'subscription { accountUpdated { ok } }';
    // GraphiQL's document may lag behind the editor (here: still the login mutation).
    const lagging = parse('mutation { logout { ok } }');
    const run = (headers: Record<string, string>) => fetcher({ query }, { headers, documentAST: lagging });

    // with a key in the headers editor: only that header goes into connection_init
    expect(await collect(await run({ Authorization: 'Bearer key-1', 'X-Other': 'x' }))).toEqual([
      { data: { accountUpdated: { ok: true } } },
    ]);
    // the same key again: the same socket
    await collect(await run({ Authorization: 'Bearer key-1' }));
    // another key, then none (the session cookie): a new socket each time, the old one closed
    await collect(await run({ Authorization: 'Bearer key-2' }));
    await collect(await run({}));
    await collect(await run({}));
    // a login (it rotates the csrftoken cookie) changes who the cookie is: a new socket again
    setCookie('after-login');
    await collect(await run({}));

    expect(sockets.map((socket) => socket.connectionParams)).toEqual([
      { Authorization: 'Bearer key-1' },
      { Authorization: 'Bearer key-2' },
      {},
      {},
    ]);
    expect(sockets.map((socket) => socket.subscribe.mock.calls.length)).toEqual([2, 1, 2, 1]);
    expect(sockets.map((socket) => socket.dispose.mock.calls.length)).toEqual([1, 1, 1, 0]);
    // and nothing went over HTTP
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe('currentRequest', () => {
  it('parses the text being sent instead of trusting GraphiQL’s debounced document and name', () => {
    const stale = { documentAST: parse('mutation Login { logout { ok } }'), headers: { a: '1' } };
    const [params, opts] = currentRequest({ query: 'subscription { accountUpdated { ok } }', operationName: 'Login' }, stale);

    expect(params.operationName).toBeNull();
    expect(opts.headers).toEqual({ a: '1' });
    const [definition] = opts.documentAST!.definitions;
    expect(definition.kind === 'OperationDefinition' && definition.operation).toBe('subscription');
  });

  it('keeps a name that is in the text, and any name when several operations are there', () => {
    const twoOps = 'query A { __typename } query B { __typename }';
    expect(currentRequest({ query: twoOps, operationName: 'B' })[0].operationName).toBe('B');
    expect(currentRequest({ query: twoOps, operationName: 'Gone' })[0].operationName).toBe('Gone');
    expect(currentRequest({ query: 'query Now { __typename }', operationName: 'Old' })[0].operationName).toBe('Now');
  });

  it('sends text that does not parse as it is, over HTTP, for the server to report', async () => {
    const [params, opts] = currentRequest({ query: 'subscription {' }, { documentAST: parse('subscription { a }') });
    expect(params.query).toBe('subscription {');
    expect(opts.documentAST).toBeUndefined();

    const fetcher = createPatronFetcher({ createSocket: fakeSocket });
    await fetcher({ query: 'subscription {' }, { documentAST: parse('subscription { a }') });
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});

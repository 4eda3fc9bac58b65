import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gql } from 'urql';
import type { ClientOptions as WsOptions } from 'graphql-ws';

const ws = vi.hoisted(() => ({
  options: [] as unknown[],
  subscribe: vi.fn(() => () => {}),
  dispose: vi.fn(),
}));

vi.mock('graphql-ws', () => ({
  createClient: (options: unknown) => {
    ws.options.push(options);
    return { subscribe: ws.subscribe, dispose: ws.dispose, on: () => () => {}, terminate: () => {}, iterate: () => {} };
  },
}));

import { CLOSE_CREDENTIAL_REFUSED, createClient, SOCKET_TOKEN_REFUSED, tokenRefusalCode } from './client';

const Query = gql`
  query Probe {
    viewer {
      displayName
    }
  }
`;
const Subscription = gql`
  subscription Live {
    accountUpdated {
      points
    }
  }
`;

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function sentInit(fetchMock: ReturnType<typeof vi.fn>): RequestInit {
  return fetchMock.mock.calls[0][1] as RequestInit;
}

function sentHeaders(fetchMock: ReturnType<typeof vi.fn>): Headers {
  return new Headers(sentInit(fetchMock).headers);
}

/** Options of the socket the client opened (urql starts a subscription asynchronously). */
async function socketOptions(): Promise<WsOptions> {
  await vi.waitFor(() => expect(ws.options).toHaveLength(1));
  return ws.options[0] as WsOptions;
}

const closeEvent = (code: number) => ({ code, reason: '', wasClean: true });

describe('createClient', () => {
  let fetchMock: ReturnType<typeof vi.fn>;

  beforeEach(() => {
    ws.options.length = 0;
    fetchMock = vi.fn(async () => jsonResponse({ data: { viewer: { displayName: 'Ana' } } }));
    vi.stubGlobal('fetch', fetchMock);
    document.cookie = 'csrftoken=csrf-123; path=/';
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    document.cookie = 'csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/';
  });

  it('sends the member token as Authorization on every fetch, with no cookie or CSRF header', async () => {
    const client = createClient({ token: 'jwt.abc.def' });
    const result = await client.query(Query, {}).toPromise();
    expect(result.data).toEqual({ viewer: { displayName: 'Ana' } });
    expect(sentHeaders(fetchMock).get('Authorization')).toBe('Bearer jwt.abc.def');
    expect(sentHeaders(fetchMock).get('X-CSRFToken')).toBeNull();
    expect(sentInit(fetchMock).credentials).toBe('omit');
  });

  it('uses the session cookie and the CSRF header without a token', async () => {
    const client = createClient();
    await client.query(Query, {}).toPromise();
    expect(sentHeaders(fetchMock).get('Authorization')).toBeNull();
    expect(sentHeaders(fetchMock).get('X-CSRFToken')).toBe('csrf-123');
    expect(sentInit(fetchMock).credentials).toBe('same-origin');
  });

  it('reports a 401 TOKEN_EXPIRED answer as a refused token', async () => {
    fetchMock.mockImplementation(async () =>
      jsonResponse({ data: null, errors: [{ message: 'The member token has expired.', extensions: { code: 'TOKEN_EXPIRED' } }] }, 401),
    );
    const onTokenRefused = vi.fn();
    const client = createClient({ token: 'jwt.abc.def', onTokenRefused });
    const result = await client.query(Query, {}).toPromise();
    expect(tokenRefusalCode(result.error)).toBe('TOKEN_EXPIRED');
    expect(onTokenRefused).toHaveBeenCalledWith('TOKEN_EXPIRED');
  });

  it('does not report other errors, nor token codes outside token mode', async () => {
    fetchMock.mockImplementation(async () => jsonResponse({ data: null, errors: [{ message: 'no', extensions: { code: 'NOT_AUTHENTICATED' } }] }));
    const onTokenRefused = vi.fn();
    await createClient({ token: 'jwt.abc.def', onTokenRefused }).query(Query, {}).toPromise();
    fetchMock.mockImplementation(async () => jsonResponse({ data: null, errors: [{ message: 'x', extensions: { code: 'TOKEN_INVALID' } }] }, 401));
    await createClient({ onTokenRefused }).query(Query, {}).toPromise();
    expect(onTokenRefused).not.toHaveBeenCalled();
  });

  it('puts the token in the socket’s connection_init payload', async () => {
    const client = createClient({ token: 'jwt.abc.def' });
    const subscription = client.subscription(Subscription, {}).subscribe(() => {});
    const options = await socketOptions();
    expect(ws.subscribe).toHaveBeenCalled();
    expect(options.connectionParams).toEqual({ Authorization: 'Bearer jwt.abc.def' });
    subscription.unsubscribe();
    client.dispose();
    expect(ws.dispose).toHaveBeenCalled();
  });

  it('opens a cookie socket without connection params when there is no token', async () => {
    const client = createClient();
    client.subscription(Subscription, {}).subscribe(() => {});
    const options = await socketOptions();
    expect(options.connectionParams).toBeUndefined();
    expect(options.shouldRetry?.(closeEvent(CLOSE_CREDENTIAL_REFUSED))).toBe(true);
  });

  it('stops retrying and reports a socket closed with 4403 in token mode', async () => {
    const onTokenRefused = vi.fn();
    const client = createClient({ token: 'jwt.abc.def', onTokenRefused });
    client.subscription(Subscription, {}).subscribe(() => {});
    const options = await socketOptions();
    expect(options.shouldRetry?.(closeEvent(CLOSE_CREDENTIAL_REFUSED))).toBe(false);
    expect(options.shouldRetry?.(closeEvent(1006))).toBe(true);
    const closed = options.on?.closed as (event: unknown) => void;
    closed(closeEvent(1006));
    expect(onTokenRefused).not.toHaveBeenCalled();
    closed(closeEvent(CLOSE_CREDENTIAL_REFUSED));
    expect(onTokenRefused).toHaveBeenCalledWith(SOCKET_TOKEN_REFUSED);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import App from '../App';
import { UiProviders } from '../lib/providers';
import { SessionProvider } from '../lib/session';
import { TOKEN_STORAGE_KEY } from '../lib/token';
import { accountFixture } from '../test/fixtures';

// No real socket in jsdom: the live subscription goes nowhere.
vi.mock('graphql-ws', () => ({
  createClient: () => ({ subscribe: () => () => {}, dispose: () => {}, on: () => () => {}, terminate: () => {} }),
}));

type Answer = { status?: number; body: unknown };
type Answers = Record<string, Answer | ((authorization: string | null) => Answer)>;

const member = {
  __typename: 'Viewer',
  displayName: 'Demo Member',
  email: 'demo@example.com',
  profile: { __typename: 'CustomerProfile', calendar: 'GREGORIAN' },
  staffShops: [],
};
const accounts = {
  viewer: { __typename: 'Viewer', accounts: { __typename: 'MemberAccountConnection', totalCount: 1, edges: [{ node: accountFixture() }] } },
};
const expired = {
  status: 401,
  body: { data: null, errors: [{ message: 'The member token has expired.', extensions: { code: 'TOKEN_EXPIRED' } }] },
};

/** A fetch answering GraphQL POSTs by operation name; records each request's Authorization. */
function fakeServer(answers: Answers) {
  const seen: { operation: string; authorization: string | null; credentials?: RequestCredentials }[] = [];
  const fetchMock = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    // urql sends queries as GET (within the URL limit) and the rest as POST.
    const body = init?.body ? (JSON.parse(String(init.body)) as { operationName?: string }) : {};
    const operation = body.operationName ?? new URL(String(url), 'http://localhost').searchParams.get('operationName') ?? '';
    const authorization = new Headers(init?.headers).get('Authorization');
    seen.push({ operation, authorization, credentials: init?.credentials });
    const entry = answers[operation];
    const answer = typeof entry === 'function' ? entry(authorization) : (entry ?? { status: 400, body: { errors: [{ message: 'no mock' }] } });
    return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fetchMock);
  return seen;
}

function renderApp(token: string | null, route = '/embed') {
  return render(
    <UiProviders>
      <SessionProvider token={token}>
        <MemoryRouter initialEntries={[route]}>
          <App />
        </MemoryRouter>
      </SessionProvider>
    </UiProviders>,
  );
}

describe('the embedded member view', () => {
  beforeEach(() => sessionStorage.clear());
  afterEach(() => vi.unstubAllGlobals());

  it('shows the member’s accounts on a token, with no login or logout', async () => {
    const seen = fakeServer({
      Session: { body: { data: { viewer: member } } },
      HomeAccounts: { body: { data: accounts } },
    });
    renderApp('jwt.abc.def');
    expect(await screen.findByTestId('account-card')).toHaveAttribute('data-shop-slug', 'demo-coffee');
    expect(screen.getByTestId('points-available')).toHaveAttribute('data-value', '1250');
    expect(screen.getByTestId('embed-member-name')).toHaveTextContent('Demo Member');
    expect(screen.queryByTestId('logout')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Log in' })).toBeNull();
    expect(seen.map((request) => request.operation)).toEqual(expect.arrayContaining(['Session', 'HomeAccounts']));
    for (const request of seen) {
      expect(request.authorization).toBe('Bearer jwt.abc.def');
      expect(request.credentials).toBe('omit');
    }
  });

  it('sends /login back to the member view in token mode', async () => {
    fakeServer({ Session: { body: { data: { viewer: member } } }, HomeAccounts: { body: { data: accounts } } });
    renderApp('jwt.abc.def', '/login');
    expect(await screen.findByTestId('account-card')).toBeVisible();
    expect(screen.queryByLabelText('Password')).toBeNull();
  });

  it('says the shop’s session expired when the server answers 401 TOKEN_EXPIRED', async () => {
    fakeServer({ Session: expired, HomeAccounts: expired });
    renderApp('jwt.old.token');
    const message = await screen.findByTestId('token-message');
    expect(message).toHaveAttribute('data-kind', 'expired');
    expect(message).toHaveTextContent('Your session from the shop has expired — reload the page in the shop');
    expect(screen.queryByTestId('account-card')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Log in' })).toBeNull();
  });

  it('says the sign-in was refused for another token refusal', async () => {
    const refused = { status: 401, body: { data: null, errors: [{ message: 'Unknown issuer.', extensions: { code: 'TOKEN_ISSUER_UNKNOWN' } }] } };
    fakeServer({ Session: refused, HomeAccounts: refused });
    renderApp('jwt.abc.def');
    const message = await screen.findByTestId('token-message');
    expect(message).toHaveAttribute('data-kind', 'refused');
    expect(message).toHaveAttribute('data-code', 'TOKEN_ISSUER_UNKNOWN');
  });

  it('asks to open the page from the shop when /embed has no token', async () => {
    fakeServer({ Session: { body: { data: null, errors: [{ message: 'Log in', extensions: { code: 'NOT_AUTHENTICATED' } }] } } });
    renderApp(null);
    const message = await screen.findByTestId('token-message');
    expect(message).toHaveAttribute('data-kind', 'missing');
    expect(message).toHaveTextContent('Open this page from the shop');
  });

  it('takes a fresh token from the framing page and shows the accounts again', async () => {
    const framing = {} as Window;
    const original = Object.getOwnPropertyDescriptor(window, 'parent');
    Object.defineProperty(window, 'parent', { configurable: true, value: framing });
    try {
      fakeServer({
        Session: (authorization) => (authorization === 'Bearer jwt.fresh.token' ? { body: { data: { viewer: member } } } : expired),
        HomeAccounts: (authorization) => (authorization === 'Bearer jwt.fresh.token' ? { body: { data: accounts } } : expired),
      });
      renderApp('jwt.old.token');
      await screen.findByTestId('token-message');
      window.dispatchEvent(new MessageEvent('message', { data: { type: 'patron:token', token: 'jwt.fresh.token' }, source: framing }));
      expect(await screen.findByTestId('account-card')).toBeVisible();
      expect(screen.queryByTestId('token-message')).toBeNull();
      expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe('jwt.fresh.token');
    } finally {
      if (original) Object.defineProperty(window, 'parent', original);
    }
  });

  it('ignores a token message from a window that neither frames nor opened the page', async () => {
    const seen = fakeServer({ Session: expired, HomeAccounts: expired });
    renderApp('jwt.old.token');
    await screen.findByTestId('token-message');
    const before = seen.length;
    window.dispatchEvent(new MessageEvent('message', { data: { type: 'patron:token', token: 'jwt.fresh.token' }, source: {} as Window }));
    await waitFor(() => expect(screen.getByTestId('token-message')).toBeVisible());
    expect(seen.slice(before).every((request) => request.authorization === 'Bearer jwt.old.token')).toBe(true);
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
  });
});

import type { ReactElement, ReactNode } from 'react';
import { render, type RenderResult } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { Client, Provider, type Exchange, type Operation, type OperationResult } from 'urql';
import { CombinedError } from '@urql/core';
import { GraphQLError } from 'graphql';
import { filter, fromValue, map, mergeMap, never, pipe } from 'wonka';
import { UiProviders } from '../lib/providers';
import { SessionContext, type Session, type Viewer } from '../lib/session';

/** What a mocked operation answers: data, or a GraphQL error with an `extensions.code`. */
export interface MockResult {
  data?: unknown;
  errorCode?: string;
  errorMessage?: string;
  /** True for a transport failure. */
  networkError?: boolean;
}

/**
 * Answers by operation name: a fixed result, or a function of the variables (called once per
 * execution, so it can count calls or answer differently each time). Operations without a
 * mock never answer (they stay loading).
 */
export type Mocks = Record<string, MockResult | ((variables: Record<string, unknown>) => MockResult)>;

/** Every operation the fake client was asked, in order. */
export interface RecordedOperation {
  name: string;
  kind: Operation['kind'];
  variables: Record<string, unknown>;
}

function operationName(operation: Operation): string {
  for (const definition of operation.query.definitions) {
    if (definition.kind === 'OperationDefinition' && definition.name) return definition.name.value;
  }
  return '';
}

function toResult(operation: Operation, mock: MockResult): OperationResult {
  let error: CombinedError | undefined;
  if (mock.networkError) error = new CombinedError({ networkError: new Error('offline') });
  else if (mock.errorCode)
    error = new CombinedError({
      graphQLErrors: [new GraphQLError(mock.errorMessage ?? mock.errorCode, { extensions: { code: mock.errorCode } })],
    });
  return { operation, data: mock.data, error, stale: false, hasNext: false };
}

function mockExchange(mocks: Mocks, calls: RecordedOperation[]): Exchange {
  return () => (operations$) =>
    pipe(
      operations$,
      filter((operation) => operation.kind !== 'teardown'),
      mergeMap((operation) => {
        const name = operationName(operation);
        const variables = (operation.variables ?? {}) as Record<string, unknown>;
        calls.push({ name, kind: operation.kind, variables });
        const mock = mocks[name];
        if (!mock) return never;
        const answer = typeof mock === 'function' ? mock(variables) : mock;
        return pipe(
          fromValue(answer),
          map((value) => toResult(operation, value)),
        );
      }),
    );
}

/** A fake urql client answering from `mocks` and recording the operations into `calls`. */
export function createMockClient(mocks: Mocks = {}, calls: RecordedOperation[] = []): Client {
  return new Client({ url: '/graphql/', exchanges: [mockExchange(mocks, calls)] });
}

/** A logged-in member with no staff roles; override fields per test. */
export function fakeSession(overrides: Partial<Session> = {}): Session {
  const viewer: Viewer = {
    displayName: 'Demo Member',
    email: 'demo@example.com',
    profile: { calendar: 'GREGORIAN' },
    staffShops: [],
  };
  return {
    viewer,
    staffShops: viewer.staffShops,
    isMember: true,
    loading: false,
    refresh: () => {},
    logout: async () => {},
    ...overrides,
  };
}

/** Options of renderWithProviders. */
export interface RenderOptions {
  mocks?: Mocks;
  /** The session the UI sees; a logged-in member by default. */
  session?: Session;
  /** Initial URL of the in-memory router. */
  route?: string;
  /** Route pattern `ui` is mounted at, so `useParams` works (e.g. `/till/:shopSlug`). */
  path?: string;
}

/**
 * Renders `ui` inside Mantine, i18next, a MemoryRouter, the session and a fake urql client.
 * Returns testing-library's result plus `calls`, the operations the client was asked.
 */
export function renderWithProviders(
  ui: ReactElement,
  { mocks = {}, session = fakeSession(), route = '/', path }: RenderOptions = {},
): RenderResult & { calls: RecordedOperation[]; client: Client } {
  const calls: RecordedOperation[] = [];
  const client = createMockClient(mocks, calls);
  const content: ReactNode = path ? (
    <Routes>
      <Route path={path} element={ui} />
    </Routes>
  ) : (
    ui
  );
  const result = render(
    <UiProviders>
      <Provider value={client}>
        <SessionContext.Provider value={session}>
          <MemoryRouter initialEntries={[route]}>{content}</MemoryRouter>
        </SessionContext.Provider>
      </Provider>
    </UiProviders>,
  );
  return Object.assign(result, { calls, client });
}

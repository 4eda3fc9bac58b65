import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { Client, Provider, type Exchange, type Operation, type OperationResult } from 'urql';
import { filter, fromValue, makeSubject, map, mergeMap, never, pipe, takeUntil, type Source, type Subject } from 'wonka';
import { UiProviders } from '../lib/providers';
import { SessionContext } from '../lib/session';
import {
  fakeSession,
  renderWithProviders,
  type Mocks,
  type RecordedOperation,
  type RenderOptions,
} from '../test/utils';
import { ConsoleShopProvider, type ConsoleShop } from './shared';

/** The demo shop as the console tests see it (an owner, New York time). */
export function testShop(overrides: Partial<ConsoleShop> = {}): ConsoleShop {
  return {
    id: 'U2hvcDox',
    name: 'Demo Coffee',
    slug: 'demo-coffee',
    currency: 'USD',
    timezone: 'America/New_York',
    role: 'OWNER',
    canEdit: true,
    ...overrides,
  };
}

/** A staff session working for `shop` with its role. */
export function staffSession(shop: ConsoleShop = testShop()) {
  const staffShops = [
    {
      role: shop.role,
      shop: { id: shop.id, name: shop.name, slug: shop.slug, currency: shop.currency, timezone: shop.timezone },
    },
  ];
  const base = fakeSession();
  return fakeSession({
    viewer: { ...base.viewer!, profile: null, staffShops },
    staffShops,
    isMember: false,
  });
}

/** Renders a console page inside the console's shop context and core's test providers. */
export function renderConsolePage(ui: ReactElement, options: RenderOptions & { shop?: ConsoleShop } = {}) {
  const shop = options.shop ?? testShop();
  return renderWithProviders(<ConsoleShopProvider shop={shop}>{ui}</ConsoleShopProvider>, {
    session: staffSession(shop),
    ...options,
  });
}

/** A source of live subscription results a test pushes by hand (`next({ data })`). */
export type LiveSubject = Subject<{ data: unknown }>;

/** Creates a LiveSubject for `renderConsolePageLive`. */
export function liveSubject(): LiveSubject {
  return makeSubject<{ data: unknown }>();
}

function operationName(operation: Operation): string {
  for (const definition of operation.query.definitions) {
    if (definition.kind === 'OperationDefinition' && definition.name) return definition.name.value;
  }
  return '';
}

/**
 * Answers the operations named in `live` from their subject, for as long as the operation
 * runs, and all others from `mocks` (data only) like core's mock client.
 */
function liveExchange(mocks: Mocks, live: Record<string, LiveSubject>, calls: RecordedOperation[]): Exchange {
  return () => (operations$) =>
    pipe(
      operations$,
      filter((operation) => operation.kind !== 'teardown'),
      mergeMap((operation): Source<OperationResult> => {
        const name = operationName(operation);
        const variables = (operation.variables ?? {}) as Record<string, unknown>;
        calls.push({ name, kind: operation.kind, variables });
        const torndown = pipe(
          operations$,
          filter((op) => op.kind === 'teardown' && op.key === operation.key),
        );
        const subject = live[name];
        if (subject) {
          return pipe(
            subject.source,
            map((value) => ({ operation, data: value.data, stale: false, hasNext: true })),
            takeUntil(torndown),
          );
        }
        const mock = mocks[name];
        if (!mock) return never;
        const answer = typeof mock === 'function' ? mock(variables) : mock;
        return fromValue({ operation, data: answer.data, stale: false, hasNext: false });
      }),
    );
}

/**
 * Like `renderConsolePage`, but the operations named in `live` (subscriptions) deliver what
 * the test pushes into their subjects, so it can check what happens when an event arrives.
 */
export function renderConsolePageLive(
  ui: ReactElement,
  { mocks = {}, live, shop = testShop() }: { mocks?: Mocks; live: Record<string, LiveSubject>; shop?: ConsoleShop },
) {
  const calls: RecordedOperation[] = [];
  const client = new Client({ url: '/graphql/', exchanges: [liveExchange(mocks, live, calls)] });
  const result = render(
    <UiProviders>
      <Provider value={client}>
        <SessionContext.Provider value={staffSession(shop)}>
          <MemoryRouter>
            <ConsoleShopProvider shop={shop}>{ui}</ConsoleShopProvider>
          </MemoryRouter>
        </SessionContext.Provider>
      </Provider>
    </UiProviders>,
  );
  return Object.assign(result, { calls, client });
}

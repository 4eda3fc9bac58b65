import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ActivityPage, appendOlderPage, mergeFirstPage, visibleLive, type History, type LiveItem } from './ActivityPage';
import type { EntryKind } from '../gql/graphql';
import { liveSubject, renderConsolePageLive } from './testing';

// Captures the reconnect listeners the page registers, so a test can play a reconnect.
const reconnect = vi.hoisted(() => new Set<() => void>());
vi.mock('../lib/client', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../lib/client')>()),
  onReconnect: (listener: () => void) => {
    reconnect.add(listener);
    return () => reconnect.delete(listener);
  },
}));

afterEach(() => reconnect.clear());

const account = (n: number, name: string) => ({ id: `TWVtYmVyQWNjb3VudDo${n}`, member: { displayName: name } });

const entry = (id: number, kind: EntryKind, points: number, reason: string, who = account(1, 'Ada'), adjustedBy: string | null = null) => ({
  id: `UG9pbnRzRW50cnk6${id}`,
  kind,
  points,
  reason,
  createdAt: `2026-03-0${id}T10:00:00Z`,
  availableAfter: 100 + id,
  pendingAfter: 0,
  adjustedBy,
  account: who,
});

const page = (entries: ReturnType<typeof entry>[], endCursor: string | null, hasNextPage: boolean) => ({
  data: {
    shop: {
      id: 'U2hvcDox',
      activity: { pageInfo: { hasNextPage, endCursor }, edges: entries.map((node) => ({ node })) },
    },
  },
});

const liveEvent = (kind: string, points: number, reason: string, who = account(2, 'Bo'), entryId: string | null = null) => ({
  data: {
    shopActivity: {
      entryId,
      kind,
      points,
      reason,
      tierChanged: false,
      account: { ...who, pointsAvailable: 500, pointsPending: 40, tier: null },
    },
  },
});

const names = () => screen.getAllByTestId('activity-item').map((item) => within(item).getByRole('button').textContent);

describe('ActivityPage', () => {
  it('shows the history, puts a live event on top and loads older entries', async () => {
    const events = liveSubject();
    const { calls } = renderConsolePageLive(<ActivityPage />, {
      live: { ConsoleShopActivity: events },
      mocks: {
        ConsoleActivity: (v) =>
          v.after
            ? page([entry(3, 'EARN', 30, 'Order 3 delivered', account(1, 'Ada')), entry(4, 'EARN', 10, 'Order 4 delivered', account(3, 'Cy'))], null, false)
            : page(
                [entry(5, 'ADJUST', 25, 'Goodwill', account(1, 'Ada'), 'owner'), entry(4, 'EARN', 10, 'Order 4 delivered', account(3, 'Cy'))],
                'Y3Vyc29yOjE=',
                true,
              ),
      },
    });
    await waitFor(() => expect(screen.getAllByTestId('activity-item')).toHaveLength(2));
    const [adjust] = screen.getAllByTestId('activity-item');
    expect(adjust).toHaveAttribute('data-kind', 'adjust');
    expect(within(adjust).getByText(/by owner/)).toBeInTheDocument();

    act(() => events.next(liveEvent('earn', 120, 'Order 9 delivered')));
    const items = screen.getAllByTestId('activity-item');
    expect(items).toHaveLength(3);
    expect(items[0]).toHaveAttribute('data-source', 'live');
    expect(within(items[0]).getByText('Order 9 delivered')).toBeInTheDocument();
    expect(names()).toEqual(['Bo', 'Ada', 'Cy']);

    await userEvent.click(screen.getByRole('button', { name: 'Load older' }));
    // Entry 4 came again (the page shifted); it shows once.
    await waitFor(() => expect(names()).toEqual(['Bo', 'Ada', 'Cy', 'Ada']));
    expect(calls.filter((c) => c.name === 'ConsoleActivity').at(-1)?.variables).toMatchObject({ after: 'Y3Vyc29yOjE=', first: 25 });
    expect(screen.queryByRole('button', { name: 'Load older' })).toBeNull();
  });

  it('reloads the first page after a reconnect instead of keeping the live events it holds', async () => {
    const events = liveSubject();
    let reloaded = false;
    const { calls } = renderConsolePageLive(<ActivityPage />, {
      live: { ConsoleShopActivity: events },
      mocks: {
        ConsoleActivity: () =>
          reloaded
            ? page([entry(7, 'EARN', 70, 'Order 7 delivered', account(2, 'Bo')), entry(6, 'EARN', 60, 'Order 6 delivered')], 'Y3Vyc29yOjE=', false)
            : page([entry(6, 'EARN', 60, 'Order 6 delivered')], 'Y3Vyc29yOjA=', false),
      },
    });
    await waitFor(() => expect(screen.getAllByTestId('activity-item')).toHaveLength(1));
    act(() => events.next(liveEvent('earn', 70, 'Order 7 delivered')));
    expect(screen.getAllByTestId('activity-item')).toHaveLength(2);

    reloaded = true;
    act(() => reconnect.forEach((listener) => listener()));
    await waitFor(() => expect(calls.filter((c) => c.name === 'ConsoleActivity')).toHaveLength(2));
    await waitFor(() =>
      expect(screen.getAllByTestId('activity-item').map((item) => item.getAttribute('data-source'))).toEqual(['history', 'history']),
    );
    expect(names()).toEqual(['Bo', 'Ada']);
  });

  it('shows a live event once when the history already holds its entry, and only then', async () => {
    const events = liveSubject();
    renderConsolePageLive(<ActivityPage />, {
      live: { ConsoleShopActivity: events },
      mocks: {
        ConsoleActivity: page([entry(5, 'ADJUST', 25, 'Goodwill', account(1, 'Ada'), 'owner'), entry(4, 'EARN', 10, 'Order 4')], null, false),
      },
    });
    await waitFor(() => expect(screen.getAllByTestId('activity-item')).toHaveLength(2));

    // The socket delivered entry 5 after the page that holds it.
    act(() => events.next(liveEvent('adjust', 25, 'Goodwill', account(1, 'Ada'), entry(5, 'ADJUST', 25, 'Goodwill').id)));
    expect(screen.getAllByTestId('activity-item').map((item) => item.getAttribute('data-source'))).toEqual(['history', 'history']);

    // Another entry with the same account, points and reason is a new row: the id decides.
    act(() => events.next(liveEvent('adjust', 25, 'Goodwill', account(1, 'Ada'), entry(6, 'ADJUST', 25, 'Goodwill').id)));
    expect(screen.getAllByTestId('activity-item').map((item) => item.getAttribute('data-source'))).toEqual(['live', 'history', 'history']);
  });
});

describe('activity history helpers', () => {
  const e = (id: number) => entry(id, 'EARN', id, `Order ${id}`);
  const history = (ids: number[], cursor: string, hasMore: boolean): History => ({ entries: ids.map(e), cursor, hasMore });

  it('keeps older pages when the new first page overlaps them, starts over when it does not', () => {
    const before = history([5, 4, 3, 2], 'c4', true);
    expect(mergeFirstPage(before, history([6, 5], 'c2', true))).toMatchObject({ cursor: 'c4', hasMore: true });
    expect(mergeFirstPage(before, history([6, 5], 'c2', true)).entries.map((x) => x.points)).toEqual([6, 5, 4, 3, 2]);
    expect(mergeFirstPage(before, history([9, 8], 'c2', true))).toEqual(history([9, 8], 'c2', true));
  });

  it('skips entries an older page repeats', () => {
    const merged = appendOlderPage(history([5, 4], 'c2', true), history([4, 3], 'c4', false));
    expect(merged.entries.map((x) => x.points)).toEqual([5, 4, 3]);
    expect(merged).toMatchObject({ cursor: 'c4', hasMore: false });
  });

  const item = (seq: number, points: number, entryId: string | null = null): LiveItem => ({
    seq,
    receivedAt: '2026-03-01T10:00:00Z',
    event: liveEvent('earn', points, `Order ${points}`, account(1, 'Ada'), entryId).data.shopActivity as LiveItem['event'],
  });

  it('hides live events without an entry id that the first page holds, by account, points and reason', () => {
    // Seq 1 came before the request (in the page), 2 and 3 while it ran (3 is in the page), 4 after.
    const live = [item(4, 9), item(3, 8), item(2, 7), item(1, 6)];
    expect(visibleLive(live, 1, 3, [e(8), e(6)], [e(8), e(6)]).map((x) => x.seq)).toEqual([4, 2]);
  });

  it('hides live events by entry id wherever the loaded history holds the entry', () => {
    const id = (n: number) => e(n).id;
    // Seq 2 to 4 came while the request ran. 2 and 4 name held entries (4 one of an older page);
    // 3 names entry 9, which is not loaded, though entry 8 has its account, points and reason.
    const live = [item(4, 4, id(4)), item(3, 8, id(9)), item(2, 7, id(7)), item(1, 6, id(6))];
    expect(visibleLive(live, 1, 4, [e(8), e(7), e(6)], [e(8), e(7), e(6), e(4)]).map((x) => x.seq)).toEqual([3]);
  });
});

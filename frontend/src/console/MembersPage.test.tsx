import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MembersPage, memberFilter } from './MembersPage';
import { renderConsolePage, testShop } from './testing';

const node = (n: number, name: string) => ({
  id: `TWVtYmVyQWNjb3VudDo${n}`,
  pointsAvailable: 100 * n,
  pointsPending: 0,
  lifetimePoints: 150 * n,
  enrolledAt: '2026-01-0' + n + 'T10:00:00Z',
  lastActivityAt: null,
  member: { displayName: name, email: `${name.toLowerCase()}@example.com`, phone: '' },
  tier: { id: 'VGllcjox', name: 'Bronze', color: '#cd7f32' },
  status: 'ACTIVE',
  stats: n === 1 ? { visits: 4, totalSpend: '120.50', lastVisitAt: '2026-02-01T10:00:00Z' } : null,
  tags:
    n === 1
      ? [
          { tag: 'vip', source: 'AUTO', reason: 'Gold tier' },
          { tag: 'barista-friend', source: 'MANUAL', reason: 'Knows the team' },
        ]
      : [],
});

function page(after: unknown) {
  const first = !after;
  return {
    data: {
      shop: {
        id: 'U2hvcDox',
        program: { id: 'UHJvZ3JhbTox', tiers: [{ id: 'VGllcjox', name: 'Bronze', color: '#cd7f32' }] },
        segments: [{ id: 'U2VnbWVudDox', name: 'Lapsed gold' }],
        members: {
          totalCount: 3,
          pageInfo: { hasNextPage: first, endCursor: first ? 'Y3Vyc29yOjI=' : null },
          edges: (first ? [node(1, 'Ada'), node(2, 'Bo')] : [node(3, 'Cy')]).map((n) => ({ cursor: n.id, node: n })),
        },
      },
    },
  };
}

const member = {
  data: {
    shop: {
      id: 'U2hvcDox',
      program: { id: 'UHJvZ3JhbTox', tierBasis: 'SPEND' },
      member: {
        id: 'TWVtYmVyQWNjb3VudDo1',
        member: { displayName: 'Ada', email: 'ada@example.com', phone: '' },
        pointsAvailable: 100,
        pointsPending: 20,
        pointsRedeemed: 0,
        pointsExpired: 0,
        lifetimePoints: 150,
        qualifyingValue: '150.00',
        enrolledAt: '2026-01-01T10:00:00Z',
        lastActivityAt: '2026-02-01T10:00:00Z',
        tier: { id: 'VGllcjox', name: 'Bronze', color: '#cd7f32' },
        status: 'ACTIVE',
        record: null,
        stats: null,
        tags: [],
        notes: [],
        tierHistory: [
          {
            id: 'VGllckNoYW5nZTox',
            fromTier: null,
            toTier: { id: 'VGllcjox', name: 'Bronze', color: '#cd7f32' },
            qualifyingValue: '0.00',
            reason: 'Enrolled in the program',
            createdAt: '2026-01-01T10:00:00Z',
          },
        ],
        entries: {
          totalCount: 2,
          pageInfo: { hasNextPage: false },
          edges: [
            {
              node: {
                id: 'UG9pbnRzRW50cnk6Mg==',
                kind: 'ADJUST',
                points: -50,
                availableAfter: 100,
                pendingAfter: 20,
                reason: 'Duplicate order credited',
                createdAt: '2026-01-06T10:00:00Z',
                adjustedBy: 'owner',
                appliedRules: [],
                source: { type: 'STAFF', orderExternalId: null },
              },
            },
            {
              node: {
                id: 'UG9pbnRzRW50cnk6MQ==',
                kind: 'EARN',
                points: 150,
                availableAfter: 0,
                pendingAfter: 150,
                reason: 'Order 17 delivered',
                createdAt: '2026-01-05T10:00:00Z',
                adjustedBy: null,
                appliedRules: [],
                source: { type: 'ORDER', orderExternalId: '17' },
              },
            },
          ],
        },
      },
    },
  },
};

describe('MembersPage', { timeout: 20_000 }, () => {
  it('lists members, pages with the cursor and opens the detail', async () => {
    const { calls } = renderConsolePage(<MembersPage />, {
      mocks: { ConsoleMembers: (variables) => page(variables.after), ConsoleMember: member },
    });
    expect(await screen.findAllByTestId('member-row')).toHaveLength(2);
    expect(screen.getByText('3 members')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await vi.waitFor(() => expect(screen.getAllByTestId('member-row')).toHaveLength(1));
    expect(calls.filter((c) => c.name === 'ConsoleMembers').at(-1)?.variables.after).toBe('Y3Vyc29yOjI=');

    await userEvent.click(screen.getByRole('button', { name: 'Cy' }));
    const detail = await screen.findByTestId('member-detail');
    expect(within(detail).getByText('Order 17 delivered')).toBeInTheDocument();
    // Who made a correction shows on its row only.
    const rows = within(detail).getAllByTestId('member-ledger-row');
    expect(within(rows[0]).getByTestId('adjusted-by')).toHaveTextContent('by owner');
    expect(within(rows[1]).queryByTestId('adjusted-by')).toBeNull();
    expect(screen.getByRole('button', { name: 'Correction' })).toBeInTheDocument();
  });

  it('sends the search and ordering to the API and starts over at page 1', async () => {
    const { calls } = renderConsolePage(<MembersPage />, { mocks: { ConsoleMembers: (v) => page(v.after) } });
    await screen.findAllByTestId('member-row');
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search' }), 'ada');
    await vi.waitFor(() =>
      expect(calls.filter((c) => c.name === 'ConsoleMembers').at(-1)?.variables).toMatchObject({
        filter: { search: 'ada' },
        orderBy: '-joined',
        after: null,
      }),
    );
  });

  it('shows status, tags (automatic vs manual), visits, spend and last visit', async () => {
    renderConsolePage(<MembersPage />, { mocks: { ConsoleMembers: (v) => page(v.after) } });
    const [ada, bo] = await screen.findAllByTestId('member-row');
    expect(within(ada).getByTestId('member-status')).toHaveAttribute('data-value', 'ACTIVE');
    const tags = within(ada).getAllByTestId('member-tag');
    expect(tags.map((t) => [t.getAttribute('data-tag'), t.getAttribute('data-source')])).toEqual([
      ['vip', 'AUTO'],
      ['barista-friend', 'MANUAL'],
    ]);
    expect(within(ada).getByTestId('member-visits')).toHaveAttribute('data-value', '4');
    expect(within(ada).getByText('$120.50')).toBeInTheDocument();
    // Before the first order: no statistics.
    expect(within(bo).getByTestId('member-visits')).toHaveAttribute('data-value', '0');
  });

  it('opens filtered by the segment in the URL and sends the customer-record filters and orders', async () => {
    const { calls } = renderConsolePage(<MembersPage />, {
      route: '/?segment=U2VnbWVudDox',
      mocks: { ConsoleMembers: (v) => page(v.after) },
    });
    await screen.findAllByTestId('member-row');
    const last = () => calls.filter((c) => c.name === 'ConsoleMembers').at(-1)?.variables;
    expect(last()).toMatchObject({ filter: { segmentId: 'U2VnbWVudDox' } });
    await vi.waitFor(() => expect(screen.getByRole('combobox', { name: 'Segment' })).toHaveValue('Lapsed gold'));

    await userEvent.type(screen.getByLabelText('No visit for (days)'), '60');
    await userEvent.type(screen.getByLabelText('Visits from'), '2');
    await userEvent.type(screen.getByLabelText('Spend from (USD)'), '10.5');
    await userEvent.type(screen.getByLabelText('Tag'), 'VIP');
    await vi.waitFor(() =>
      expect(last()).toMatchObject({
        filter: { segmentId: 'U2VnbWVudDox', lastVisitDaysMin: 60, visitsMin: 2, totalSpendMin: '10.5', tag: 'vip' },
        after: null,
      }),
    );

    await userEvent.click(screen.getByRole('combobox', { name: 'Sort by' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Highest spend', hidden: true }));
    await vi.waitFor(() => expect(last()).toMatchObject({ orderBy: '-spend' }));
  });

  it('hides the correction button from cashiers', async () => {
    renderConsolePage(<MembersPage />, {
      shop: testShop({ role: 'CASHIER', canEdit: false }),
      mocks: { ConsoleMembers: (v) => page(v.after) },
    });
    await screen.findAllByTestId('member-row');
    expect(screen.queryByRole('button', { name: /Correction/ })).toBeNull();
  });

  it('reads filter days in the shop time zone, "until" days inclusive', () => {
    const filter = memberFilter(
      {
        tierId: null,
        joinedFrom: '2026-03-01',
        joinedTo: '2026-03-31',
        balanceMin: 10,
        balanceMax: '',
        activeFrom: null,
        activeTo: null,
        search: '  dana ',
      },
      'Asia/Tehran',
    );
    expect(filter).toMatchObject({
      joinedAfter: '2026-03-01T00:00:00+03:30',
      joinedBefore: '2026-04-01T00:00:00+03:30',
      balanceMin: 10,
      balanceMax: null,
      search: 'dana',
    });
  });
});

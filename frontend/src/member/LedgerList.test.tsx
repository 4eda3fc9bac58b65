import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { LedgerList } from './LedgerList';
import { entryFixture } from '../test/fixtures';
import { renderWithProviders, type MockResult } from '../test/utils';

function page(entries: ReturnType<typeof entryFixture>[], hasNextPage: boolean, endCursor: string | null, totalCount = 3): MockResult {
  return {
    data: {
      viewer: {
        account: {
          id: 'TWVtYmVyQWNjb3VudDox',
          entries: { totalCount, edges: entries.map((node) => ({ node })), pageInfo: { hasNextPage, endCursor } },
        },
      },
    },
  };
}

describe('LedgerList', () => {
  it('shows every entry with its reason, then loads the next page', async () => {
    const redeem = entryFixture(2, { kind: 'REDEEM', points: -150, reason: 'Redeemed: Free espresso', source: { type: 'REDEMPTION', orderExternalId: null } });
    const { calls } = renderWithProviders(<LedgerList accountId="TWVtYmVyQWNjb3VudDox" />, {
      mocks: {
        AccountEntries: (variables) =>
          variables.after == null ? page([entryFixture(1), redeem], true, 'cursor-2') : page([entryFixture(3)], false, 'cursor-3'),
      },
    });
    const rows = await screen.findAllByTestId('ledger-row');
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByTestId('ledger-reason')).toHaveTextContent('Order 1 delivered');
    expect(within(rows[0]).getByText('+10')).toBeInTheDocument();
    expect(within(rows[0]).getByText('Earned')).toBeInTheDocument();
    expect(within(rows[1]).getByTestId('ledger-reason')).toHaveTextContent('Redeemed: Free espresso');
    expect(within(rows[1]).getByText('-150')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await screen.findByText('Order 3 delivered')).toBeInTheDocument();
    expect(screen.getAllByTestId('ledger-row')).toHaveLength(3);
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
    const cursors = calls.filter((call) => call.name === 'AccountEntries').map((call) => call.variables.after);
    expect([...new Set(cursors)]).toEqual([null, 'cursor-2']);
  });

  it('says so when there is no history', async () => {
    renderWithProviders(<LedgerList accountId="TWVtYmVyQWNjb3VudDox" />, { mocks: { AccountEntries: page([], false, null, 0) } });
    expect(await screen.findByText('No points movements yet')).toBeInTheDocument();
  });
});

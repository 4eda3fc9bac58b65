import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { RedemptionFieldsFragment } from '../gql/graphql';
import { CodesList } from './CodesList';
import { redemptionFixture } from '../test/fixtures';
import { renderWithProviders, type MockResult } from '../test/utils';

const shopId = 'U2hvcDox';

function code(n: number, overrides: Partial<RedemptionFieldsFragment> = {}): RedemptionFieldsFragment {
  return redemptionFixture({ id: `UmVkZW1wdGlvbjo${n}`, code: `CODE-000${n}`, shop: { id: shopId, name: 'Demo Coffee' }, ...overrides });
}

function page(codes: RedemptionFieldsFragment[], hasNextPage: boolean, endCursor: string | null): MockResult {
  return {
    data: { viewer: { redemptions: { edges: codes.map((node) => ({ node })), pageInfo: { hasNextPage, endCursor } } } },
  };
}

const rowByCode = (value: string) => screen.getAllByTestId('code-row').find((row) => row.getAttribute('data-code') === value)!;

describe('CodesList', () => {
  it('asks for the shop\'s codes and loads the next page on demand, grouped by status', async () => {
    const { calls } = renderWithProviders(<CodesList shopId={shopId} />, {
      mocks: {
        MemberCodes: (variables) =>
          variables.after == null
            ? page([code(1), code(2, { status: 'USED', usedAt: '2026-11-21T10:00:00+00:00' })], true, 'cursor-2')
            : page([code(3)], false, 'cursor-3'),
      },
    });
    expect(await screen.findAllByTestId('code-row')).toHaveLength(2);
    await userEvent.click(screen.getByRole('button', { name: 'Load more codes' }));
    expect(await screen.findByText('CODE-0003')).toBeInTheDocument();
    const groups = screen.getAllByTestId('code-group');
    expect(groups.map((group) => group.getAttribute('data-status'))).toEqual(['ISSUED', 'USED']);
    expect(within(groups[0]).getAllByTestId('code-row').map((row) => row.getAttribute('data-code'))).toEqual(['CODE-0001', 'CODE-0003']);
    expect(screen.queryByRole('button', { name: 'Load more codes' })).not.toBeInTheDocument();
    const asked = calls.filter((call) => call.name === 'MemberCodes').map((call) => JSON.stringify(call.variables));
    expect([...new Set(asked)].map((json) => JSON.parse(json))).toEqual([
      { shopId, first: 12, after: null },
      { shopId, first: 12, after: 'cursor-2' },
    ]);
  });

  it('offers cancelling only issued codes', async () => {
    renderWithProviders(<CodesList shopId={shopId} />, {
      mocks: { MemberCodes: page([code(1), code(2, { status: 'EXPIRED', expiredAt: '2026-12-20T10:00:00+00:00' })], false, null) },
    });
    await screen.findAllByTestId('code-row');
    expect(within(rowByCode('CODE-0001')).getByRole('button', { name: 'Cancel code CODE-0001' })).toBeInTheDocument();
    expect(within(rowByCode('CODE-0002')).queryByRole('button', { name: /Cancel code/ })).not.toBeInTheDocument();
  });

  it('cancels a code only after confirming', async () => {
    const cancelled = code(1, { status: 'CANCELLED', cancelledAt: '2026-11-22T10:00:00+00:00' });
    const { calls } = renderWithProviders(<CodesList shopId={shopId} />, {
      mocks: {
        MemberCodes: page([code(1)], false, null),
        RedemptionCancel: {
          data: { redemptionCancel: { redemption: { ...cancelled, account: { id: 'TWVtYmVyQWNjb3VudDox', pointsAvailable: 1400 } }, errors: [] } },
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel code CODE-0001' }));
    const dialog = await screen.findByRole('dialog', { name: 'Cancel this code?' });
    expect(within(dialog).getByText(/its 150 pts come back/)).toBeInTheDocument();
    expect(calls.some((call) => call.name === 'RedemptionCancel')).toBe(false);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Yes, cancel it' }));
    await waitFor(() => expect(calls.some((call) => call.name === 'RedemptionCancel')).toBe(true));
    expect(calls.find((call) => call.name === 'RedemptionCancel')?.variables).toEqual({ input: { redemptionId: code(1).id } });
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });

  it('shows a refused cancel in the dialog', async () => {
    renderWithProviders(<CodesList shopId={shopId} />, {
      mocks: {
        MemberCodes: page([code(1)], false, null),
        RedemptionCancel: {
          data: { redemptionCancel: { redemption: null, errors: [{ field: null, code: 'NOT_CANCELLABLE', message: 'Used.' }] } },
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel code CODE-0001' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Yes, cancel it' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('This code can no longer be cancelled.');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Keep the code' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });
});

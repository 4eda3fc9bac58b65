import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { RewardsPage, rewardState } from './RewardsPage';
import { renderConsolePage } from './testing';

const reward = (id: string, name: string, status: 'ACTIVE' | 'ARCHIVED', extra: Record<string, unknown> = {}) => ({
  id,
  name,
  description: '',
  kind: 'FREE_PRODUCT',
  value: null,
  pointsCost: 500,
  minTier: null,
  stock: null,
  perMemberLimit: null,
  limitPeriod: 'EVER',
  validFrom: null,
  validUntil: null,
  status,
  imageUrl: '',
  sortOrder: 0,
  codeLifetimeDays: 30,
  refundOnExpiry: true,
  currency: 'USD',
  translations: [],
  ...extra,
});

const catalogue = {
  data: {
    shop: {
      id: 'U2hvcDox',
      rewardCatalogue: [
        reward('UmV3YXJkOjE=', 'Free coffee', 'ACTIVE'),
        reward('UmV3YXJkOjI=', 'Summer mug', 'ARCHIVED'),
        reward('UmV3YXJkOjM=', 'New year cake', 'ACTIVE', { validFrom: '2099-01-01T00:00:00Z' }),
      ],
      program: { id: 'UHJvZ3JhbTox', tiers: [] },
    },
  },
};

const cards = () => screen.getAllByTestId('console-reward').map((c) => c.getAttribute('data-reward-name'));

describe('RewardsPage', () => {
  it('lists archived rewards with their status, filters them and edits one', async () => {
    const { calls } = renderConsolePage(<RewardsPage />, {
      mocks: {
        ConsoleRewards: catalogue,
        ConsoleRewardUpdate: { data: { rewardUpdate: { reward: catalogue.data.shop.rewardCatalogue[1], errors: [] } } },
      },
    });
    await waitFor(() => expect(cards()).toEqual(['Free coffee', 'Summer mug', 'New year cake']));
    const mug = screen.getAllByTestId('console-reward')[1];
    expect(mug).toHaveAttribute('data-status', 'ARCHIVED');
    expect(within(mug).getByTestId('reward-status')).toHaveTextContent('Archived');
    expect(within(mug).queryByRole('button', { name: /Archive/ })).toBeNull();
    expect(within(screen.getAllByTestId('console-reward')[2]).getByTestId('reward-status')).toHaveTextContent('Not offered yet');

    await userEvent.click(screen.getByRole('radio', { name: 'Archived (1)' }));
    expect(cards()).toEqual(['Summer mug']);
    await userEvent.click(screen.getByRole('radio', { name: 'Active (2)' }));
    expect(cards()).toEqual(['Free coffee', 'New year cake']);
    await userEvent.click(screen.getByRole('radio', { name: 'All (3)' }));

    await userEvent.click(screen.getByRole('button', { name: 'Edit Summer mug' }));
    expect(await screen.findByText(/This reward is archived/)).toBeInTheDocument();
    const name = screen.getByRole('textbox', { name: /^Name\s*\*?$/ });
    await userEvent.clear(name);
    await userEvent.type(name, 'Summer mug 2025');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleRewardUpdate')?.variables).toMatchObject({
        rewardId: 'UmV3YXJkOjI=',
        input: { name: 'Summer mug 2025', pointsCost: 500 },
      }),
    );
    // The catalogue, not the public list, is what the editor reads.
    expect(calls.filter((c) => c.name === 'ConsoleRewards').length).toBeGreaterThanOrEqual(1);
  });

  it('restores an archived reward with rewardRestore, from the keyboard too', async () => {
    let restored = false;
    const { calls } = renderConsolePage(<RewardsPage />, {
      mocks: {
        ConsoleRewards: () =>
          restored
            ? {
                data: {
                  shop: {
                    ...catalogue.data.shop,
                    rewardCatalogue: catalogue.data.shop.rewardCatalogue.map((r) => (r.name === 'Summer mug' ? { ...r, status: 'ACTIVE' } : r)),
                  },
                },
              }
            : catalogue,
        ConsoleRewardRestore: () => {
          restored = true;
          return { data: { rewardRestore: { reward: { id: 'UmV3YXJkOjI=', status: 'ACTIVE' }, errors: [] } } };
        },
      },
    });
    await waitFor(() => expect(cards()).toHaveLength(3));
    // Only archived rewards offer Restore.
    expect(screen.getAllByRole('button', { name: /^Restore/ })).toHaveLength(1);
    await userEvent.click(screen.getByRole('button', { name: 'Edit Summer mug' }));
    expect(await screen.findByText(/Use “Restore” on its card/)).toBeInTheDocument();
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    const restore = screen.getByRole('button', { name: 'Restore Summer mug' });
    restore.focus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(calls.find((c) => c.name === 'ConsoleRewardRestore')?.variables).toEqual({ rewardId: 'UmV3YXJkOjI=' }));
    expect(await screen.findByText('Summer mug is back in the catalogue')).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId('console-reward')[1]).toHaveAttribute('data-status', 'ACTIVE'));
    expect(within(screen.getAllByTestId('console-reward')[1]).getByRole('button', { name: 'Archive Summer mug' })).toBeInTheDocument();
  });

  it('shows the coded errors of a refused restore', async () => {
    renderConsolePage(<RewardsPage />, {
      mocks: {
        ConsoleRewards: catalogue,
        ConsoleRewardRestore: {
          data: { rewardRestore: { reward: null, errors: [{ field: null, code: 'NOT_FOUND', message: 'No such reward.' }] } },
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Restore Summer mug' }));
    // The toast of an earlier test may still be up, so find the alert by its text.
    expect((await screen.findByText('No such reward.')).closest('[role="alert"]')).not.toBeNull();
    expect(screen.getAllByTestId('console-reward')[1]).toHaveAttribute('data-status', 'ARCHIVED');
  });

  it('tells an archived, a future and an ended reward apart', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    expect(rewardState({ status: 'ARCHIVED', validFrom: null, validUntil: null }, now)).toBe('archived');
    expect(rewardState({ status: 'ACTIVE', validFrom: '2026-04-01T00:00:00Z', validUntil: null }, now)).toBe('scheduled');
    expect(rewardState({ status: 'ACTIVE', validFrom: null, validUntil: '2026-03-01T00:00:00Z' }, now)).toBe('ended');
    expect(rewardState({ status: 'ACTIVE', validFrom: '2026-01-01T00:00:00Z', validUntil: null }, now)).toBe('onOffer');
  });
});

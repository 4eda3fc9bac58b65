import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { RewardsList, sortRewards } from './RewardsList';
import { rewardFixture, tillRedemptionFixture } from '../test/fixtures';
import { renderWithProviders } from '../test/utils';

const rewards = [
  rewardFixture('Mug', 900, false),
  rewardFixture('Espresso', 150, true),
  rewardFixture('Beans', 400, false),
  rewardFixture('Cookie', 50, true),
];

describe('RewardsList', () => {
  it('puts the affordable rewards first, keeping the catalogue order', () => {
    expect(sortRewards(rewards).map((item) => item.reward.name)).toEqual(['Espresso', 'Cookie', 'Mug', 'Beans']);
    renderWithProviders(<RewardsList rewards={rewards} />);
    const cards = screen.getAllByTestId('reward-card');
    expect(cards.map((card) => card.getAttribute('data-reward-name'))).toEqual(['Espresso', 'Cookie', 'Mug', 'Beans']);
    expect(within(cards[2]).getByRole('button', { name: 'Redeem' })).toBeDisabled();
    expect(within(cards[2]).getByText('Not enough points.')).toBeInTheDocument();
  });

  it('redeems with an idempotency key and shows the code', async () => {
    const { holder: _tillHolder, ...redemption } = tillRedemptionFixture();
    const { calls } = renderWithProviders(<RewardsList rewards={rewards} />, {
      mocks: {
        RewardRedeem: {
          data: {
            rewardRedeem: {
              replayed: false,
              redemption: { ...redemption, account: { id: 'TWVtYmVyQWNjb3VudDox', pointsAvailable: 1100 } },
              errors: [],
            },
          },
        },
      },
    });
    const espresso = screen.getAllByTestId('reward-card')[0];
    await userEvent.click(within(espresso).getByRole('button', { name: 'Redeem' }));
    const code = await screen.findByTestId('redemption-code');
    expect(code).toHaveAttribute('data-code', '7Q2M-ZK4D-XR920');
    expect(code).toHaveTextContent('7Q2M-ZK4D-XR920');
    const call = calls.find((c) => c.name === 'RewardRedeem');
    expect(call?.variables.input).toEqual({ rewardId: rewards[1].reward.id });
    expect(call?.variables.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('shows a refusal on the card', async () => {
    renderWithProviders(<RewardsList rewards={rewards} />, {
      mocks: {
        RewardRedeem: {
          data: { rewardRedeem: { replayed: false, redemption: null, errors: [{ field: null, code: 'OUT_OF_STOCK', message: 'Out.' }] } },
        },
      },
    });
    await userEvent.click(within(screen.getAllByTestId('reward-card')[0]).getByRole('button', { name: 'Redeem' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Out of stock.');
    expect(screen.queryByTestId('redemption-code')).not.toBeInTheDocument();
  });
});

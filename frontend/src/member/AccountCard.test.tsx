import { screen, within } from '@testing-library/react';
import { AccountCard } from './AccountCard';
import { accountFixture } from '../test/fixtures';
import { renderWithProviders } from '../test/utils';

describe('AccountCard', () => {
  it('shows the balances, the tier badge and the way to the next tier', () => {
    renderWithProviders(<AccountCard account={accountFixture()} />);
    const card = screen.getByTestId('account-card');
    expect(card).toHaveAttribute('data-shop-slug', 'demo-coffee');
    expect(within(card).getByRole('heading', { name: 'Demo Coffee' })).toBeInTheDocument();
    expect(screen.getByTestId('points-available')).toHaveTextContent('1,250');
    expect(screen.getByTestId('points-available')).toHaveAttribute('data-value', '1250');
    expect(screen.getByTestId('points-pending')).toHaveAttribute('data-value', '300');
    expect(screen.getByTestId('tier-badge')).toHaveTextContent('Silver');
    expect(screen.getByTestId('tier-progress')).toHaveTextContent('750 pts more to Gold');
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '60');
    expect(screen.getByText('120 pts expire on Jan 31, 2027')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Open the Demo Coffee account' })).toHaveAttribute(
      'href',
      '/accounts/TWVtYmVyQWNjb3VudDox',
    );
  });

  it('counts money on spend-based programs and says when the top is reached', () => {
    const spend = accountFixture({ program: { id: 'p', tierBasis: 'SPEND' } });
    const { unmount } = renderWithProviders(<AccountCard account={spend} />);
    expect(screen.getByTestId('tier-progress')).toHaveTextContent('$750.00 more to Gold');
    unmount();
    const top = accountFixture();
    top.tierProgress = { ...top.tierProgress, nextTier: null, remaining: null, nextThreshold: null, fraction: 1 };
    renderWithProviders(<AccountCard account={top} />);
    expect(screen.getByTestId('tier-progress')).toHaveTextContent('Top tier reached');
  });
});

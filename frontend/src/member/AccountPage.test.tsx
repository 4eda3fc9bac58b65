import { screen } from '@testing-library/react';
import { AccountPage } from './AccountPage';
import { accountFixture } from '../test/fixtures';
import { renderWithProviders } from '../test/utils';

const accountId = 'TWVtYmVyQWNjb3VudDox';

describe('AccountPage', () => {
  it('loads the account by its id', async () => {
    const { calls } = renderWithProviders(<AccountPage />, {
      route: `/accounts/${accountId}`,
      path: '/accounts/:accountId',
      mocks: {
        AccountDetail: {
          data: { viewer: { account: { ...accountFixture(), referralCode: null, rewards: [] } } },
        },
      },
    });
    expect(await screen.findByTestId('account-card')).toHaveAttribute('data-shop-slug', 'demo-coffee');
    expect(calls.find((call) => call.name === 'AccountDetail')?.variables).toEqual({ id: accountId });
    expect(screen.queryByTestId('account-not-found')).not.toBeInTheDocument();
  });

  it('says so when the id is not one of the member\'s accounts', async () => {
    renderWithProviders(<AccountPage />, {
      route: '/accounts/QW5vdGhlcjo5',
      path: '/accounts/:accountId',
      mocks: { AccountDetail: { data: { viewer: { account: null } } } },
    });
    expect(await screen.findByText('This account was not found.')).toBeInTheDocument();
    expect(screen.getByTestId('account-not-found')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Go to your accounts' })).toHaveAttribute('href', '/');
    expect(screen.queryByTestId('account-card')).not.toBeInTheDocument();
  });
});

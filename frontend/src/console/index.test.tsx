import { screen } from '@testing-library/react';
import { ConsoleRoutes } from './index';
import { staffSession, testShop } from './testing';
import { fakeSession, renderWithProviders } from '../test/utils';

describe('ConsoleRoutes', () => {
  it('shows the editing sections to owners', async () => {
    renderWithProviders(<ConsoleRoutes />, {
      session: staffSession(testShop()),
      route: '/console/demo-coffee/tiers',
      path: '/console/:shopSlug/*',
    });
    expect(await screen.findByRole('tab', { name: 'Tiers' })).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByRole('tab', { name: 'Settings' })).toBeInTheDocument();
  });

  it('gives cashiers the read-only sections and refuses the editing ones', async () => {
    renderWithProviders(<ConsoleRoutes />, {
      session: staffSession(testShop({ role: 'CASHIER', canEdit: false })),
      route: '/console/demo-coffee/settings',
      path: '/console/:shopSlug/*',
    });
    expect(await screen.findByTestId('console-forbidden')).toHaveTextContent('Owners and managers only');
    expect(screen.getByRole('tab', { name: 'Members' })).toBeInTheDocument();
    expect(screen.queryByRole('tab', { name: 'Settings' })).toBeNull();
  });

  it('refuses a shop the user does not work for', () => {
    renderWithProviders(<ConsoleRoutes />, {
      session: fakeSession(),
      route: '/console/demo-coffee/members',
      path: '/console/:shopSlug/*',
    });
    expect(screen.getByTestId('console-forbidden')).toHaveTextContent('No access to this shop');
  });
});

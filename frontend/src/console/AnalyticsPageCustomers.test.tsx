import { screen, within } from '@testing-library/react';
import { CustomerAnalyticsSection } from './AnalyticsPageCustomers';
import { renderConsolePage } from './testing';

const analytics = {
  data: {
    shop: {
      id: 'U2hvcDox',
      customerAnalytics: {
        from: '2026-10-01',
        to: '2026-11-30',
        currency: 'USD',
        retention: [
          {
            month: '2026-10-01',
            membersActiveBefore: 0,
            membersActive: 4,
            membersNew: 4,
            membersRetained: 0,
            membersChurned: 0,
            retentionRate: null,
            churnRate: null,
          },
          {
            month: '2026-11-01',
            membersActiveBefore: 4,
            membersActive: 3,
            membersNew: 1,
            membersRetained: 3,
            membersChurned: 1,
            retentionRate: '0.7500',
            churnRate: '0.2500',
          },
        ],
        tierMoves: [
          {
            month: '2026-11-01',
            upgrades: 2,
            downgrades: 1,
            distribution: [
              { tierId: 'VGllcjox', name: 'Bronze', position: 0, members: 3 },
              { tierId: 'VGllcjoz', name: 'Gold', position: 2, members: 1 },
            ],
          },
        ],
        rewards: [{ rewardId: 'UmV3YXJkOjE=', name: 'Free coffee', issued: 5, used: 3, cancelled: 1, expired: 0, pointsSpent: 400, members: 4 }],
        tiers: [
          { tierId: 'VGllcjoz', name: 'Gold', position: 2, orders: 6, members: 2, revenue: '180.00', averageOrderValue: '30.00', visitsPerMember: '3.00' },
          { tierId: null, name: null, position: null, orders: 0, members: 0, revenue: '0.00', averageOrderValue: null, visitsPerMember: null },
        ],
        revenue: {
          memberOrders: 6,
          memberCustomers: 2,
          memberRevenue: '180.00',
          memberAverageOrderValue: '30.00',
          nonMemberOrders: 2,
          nonMemberCustomers: 2,
          nonMemberRevenue: '20.00',
          nonMemberAverageOrderValue: '10.00',
          memberRevenueShare: '0.9000',
        },
      },
    },
  },
};

describe('CustomerAnalyticsSection', { timeout: 20_000 }, () => {
  it('asks for the period and shows retention, tier moves, tiers, rewards and revenue', async () => {
    const { calls } = renderConsolePage(<CustomerAnalyticsSection from="2026-10-01" to="2026-11-30" />, {
      mocks: { ConsoleCustomerAnalytics: analytics },
    });
    const rows = await screen.findAllByTestId('retention-row');
    expect(calls.find((c) => c.name === 'ConsoleCustomerAnalytics')?.variables).toEqual({
      slug: 'demo-coffee',
      from: '2026-10-01',
      to: '2026-11-30',
    });
    // No one active the month before: no rate, a dash.
    expect(within(rows[0]).getAllByText('—')).toHaveLength(2);
    expect(within(rows[1]).getByText('75%')).toBeInTheDocument();
    expect(within(rows[1]).getByText('25%')).toBeInTheDocument();
    expect(within(screen.getByTestId('customer-tier-moves')).getByText('Gold: 1')).toBeInTheDocument();
    expect(within(screen.getByTestId('customer-tiers')).getByText('No tier')).toBeInTheDocument();
    expect(within(screen.getByTestId('reward-redemptions-row')).getByText('Free coffee')).toBeInTheDocument();
    expect(screen.getByTestId('customer-revenue-members')).toHaveAttribute('data-value', '180.00');
    expect(screen.getByTestId('customer-revenue-nonMembers')).toHaveTextContent('$20.00');
    expect(screen.getByText("Members' share of revenue: 90%")).toBeInTheDocument();
  });

  it('shows a refused period as an error', async () => {
    renderConsolePage(<CustomerAnalyticsSection from="2020-01-01" to="2026-11-30" />, {
      mocks: { ConsoleCustomerAnalytics: { errorCode: 'INVALID_INPUT', errorMessage: 'At most 24 months.' } },
    });
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid input — At most 24 months.');
  });
});

import { screen, within } from '@testing-library/react';
import { AnalyticsPage, liabilityTrend } from './AnalyticsPage';
import { renderConsolePage } from './testing';

const bucket = (start: string, issued: number, redeemed: number, expired: number) => ({
  start,
  pointsIssued: issued,
  pointsReversed: 0,
  pointsRedeemed: redeemed,
  pointsExpired: expired,
  pointsAdjusted: 0,
  membersNew: 1,
  ordersDelivered: 2,
  revenue: '40.00',
});

const analytics = {
  from: '2026-03-01',
  to: '2026-03-03',
  granularity: 'DAY',
  currency: 'USD',
  pointValue: '0.0100',
  generatedAt: '2026-03-03T12:00:00Z',
  membersTotal: 1234,
  membersNew: 56,
  membersActive: 789,
  tierDistribution: [
    { tierId: 'VGllcjox', name: 'Bronze', position: 0, members: 1000 },
    { tierId: 'VGllcjoy', name: 'Silver', position: 1, members: 200 },
    { tierId: 'VGllcjoz', name: 'Gold', position: 2, members: 34 },
  ],
  pointsIssued: 5000,
  pointsReversed: 120,
  pointsRedeemed: 2061,
  pointsExpired: 300,
  pointsAdjusted: -40,
  liabilityPoints: 1234,
  liabilityPointsAvailable: 1000,
  liabilityPointsPending: 234,
  liabilityAmount: '12.34',
  redemptionRate: '0.4122',
  breakageRate: '0.1500',
  breakagePointsEstimate: 185,
  breakageAmountEstimate: '1.85',
  ordersCount: 6,
  revenue: '120.00',
  averageOrderValue: '20.00',
  topMembers: [
    { accountId: 'TWVtYmVyQWNjb3VudDox', displayName: 'Dana', tierName: 'Gold', points: 900 },
    { accountId: 'TWVtYmVyQWNjb3VudDoy', displayName: 'Sam', tierName: null, points: 300 },
  ],
  series: [bucket('2026-03-01', 1000, 500, 0), bucket('2026-03-02', 2000, 561, 300), bucket('2026-03-03', 2000, 1000, 0)],
};

describe('AnalyticsPage', () => {
  it('renders the figures of the mocked result', async () => {
    const { calls } = renderConsolePage(<AnalyticsPage />, {
      mocks: {
        ConsoleAnalytics: {
          data: {
            shop: {
              id: 'U2hvcDox',
              program: { id: 'UHJvZ3JhbTox', tiers: [{ id: 'VGllcjox', color: '#cd7f32' }] },
              analytics,
            },
          },
        },
      },
    });
    const total = await screen.findByTestId('figure-members-total');
    expect(total).toHaveTextContent('1,234');
    expect(screen.getByTestId('figure-members-new')).toHaveTextContent('56');
    expect(screen.getByTestId('figure-members-active')).toHaveTextContent('789');
    expect(screen.getByTestId('figure-points-issued')).toHaveTextContent('5,000');
    expect(screen.getByTestId('figure-points-redeemed')).toHaveTextContent('2,061');
    expect(screen.getByTestId('figure-points-expired')).toHaveTextContent('300');
    expect(screen.getByTestId('figure-points-adjusted')).toHaveTextContent('-40');
    expect(screen.getByTestId('figure-liability')).toHaveTextContent('$12.34');
    expect(screen.getByTestId('figure-redemption-rate')).toHaveTextContent('41.2%');
    expect(screen.getByTestId('figure-breakage')).toHaveTextContent('185');
    expect(screen.getByTestId('figure-breakage')).toHaveTextContent('$1.85');
    expect(screen.getByTestId('figure-average-order')).toHaveTextContent('$20.00');

    const top = screen.getAllByTestId('top-member');
    expect(top).toHaveLength(2);
    expect(within(top[0]).getByText('Dana')).toBeInTheDocument();
    expect(within(top[0]).getByText('900')).toBeInTheDocument();
    expect(screen.getByText('Silver:')).toBeInTheDocument();

    const variables = calls.find((c) => c.name === 'ConsoleAnalytics')?.variables;
    expect(variables).toMatchObject({ slug: 'demo-coffee', granularity: 'DAY', top: 10 });
    expect(String(variables?.from) < String(variables?.to)).toBe(true);
  });

  it('works the liability back from today through the flows', () => {
    // End-of-day outstanding: 1234 now; the last day added 1000 net, the one before 1139.
    expect(liabilityTrend(analytics.series, 1234)).toEqual([-905, 234, 1234]);
  });
});

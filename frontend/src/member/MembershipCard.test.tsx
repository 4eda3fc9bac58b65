import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderWithProviders } from '../test/utils';
import i18n from '../i18n';
import { formatDate } from '../lib/format';
import { MembershipCard } from './MembershipCard';

const accountId = 'TWVtYmVyQWNjb3VudDox';
const subscriptionId = 'TWVtYmVyc2hpcFN1YnNjcmlwdGlvbjox';

const gold = {
  id: 'VGllcjoy',
  name: 'Gold',
  color: 'yellow',
  nameTranslations: [{ language: 'fa', text: 'طلایی' }],
};

const vipGold = {
  id: 'TWVtYmVyc2hpcFBsYW46MQ==',
  name: 'VIP Gold',
  localizedName: 'VIP Gold',
  price: '9.99',
  currency: 'USD',
  intervalUnit: 'MONTH',
  intervalCount: 1,
  trialDays: 14,
  earnMultiplier: '2',
  benefits: ['Gold tier while subscribed', 'Double points on every order'],
  translations: [{ language: 'fa', name: 'طلایی ویژه', benefits: [] }],
  tier: gold,
};

const platinum = {
  ...vipGold,
  id: 'TWVtYmVyc2hpcFBsYW46Mg==',
  name: 'VIP Platinum yearly',
  localizedName: 'VIP Platinum yearly',
  price: '99.00',
  intervalUnit: 'YEAR',
  trialDays: 0,
  earnMultiplier: '1',
  benefits: ['Platinum tier'],
  tier: { id: 'VGllcjoz', name: 'Platinum', color: 'gray', nameTranslations: [] },
};

const trialing = {
  id: subscriptionId,
  status: 'TRIALING',
  trialEnd: '2026-12-21T10:00:00Z',
  currentPeriodStart: '2026-12-07T10:00:00Z',
  currentPeriodEnd: '2026-12-21T10:00:00Z',
  autoRenew: true,
  cancelAtPeriodEnd: false,
  nextChargeAt: '2026-12-21T10:00:00Z',
  endedAt: null,
  plan: vipGold,
  transitions: [
    {
      fromStatus: null,
      toStatus: 'PENDING',
      reason: 'Subscribed',
      actorKind: 'MEMBER',
      createdAt: '2026-12-07T10:00:00Z',
    },
    {
      fromStatus: 'PENDING',
      toStatus: 'TRIALING',
      reason: 'Free trial of 14 days',
      actorKind: 'MEMBER',
      createdAt: '2026-12-07T10:00:00Z',
    },
  ],
  payments: [] as unknown[],
};

const membership = (subscription: unknown, plans: unknown[] = [vipGold, platinum]) => ({
  data: {
    viewer: {
      account: {
        id: accountId,
        subscription,
        shop: { id: 'U2hvcDox', membershipPlans: plans },
      },
    },
  },
});

const member = { id: accountId, tier: gold };

describe('MembershipCard', { timeout: 20_000 }, () => {
  it('shows a trial with its end, renewal, tier, multiplier and benefits', async () => {
    const { calls } = renderWithProviders(<MembershipCard accountId={accountId} />, {
      mocks: { AccountMembership: membership(trialing) },
    });
    const card = await screen.findByTestId('membership-card');
    expect(within(card).getByTestId('membership-plan-name')).toHaveTextContent('VIP Gold');
    expect(within(card).getByTestId('membership-status')).toHaveTextContent('Free trial');
    expect(within(card).getByTestId('membership-trial')).toHaveTextContent(`Free trial until ${formatDate(trialing.trialEnd)}`);
    expect(within(card).getByTestId('membership-renewal')).toHaveTextContent(
      `Next renewal: ${formatDate(trialing.nextChargeAt)} — $9.99`,
    );
    expect(within(card).getByTestId('membership-tier')).toHaveTextContent('Gold');
    expect(within(card).getByTestId('membership-multiplier')).toHaveTextContent('×2 points');
    expect(within(card).getByText('Double points on every order')).toBeInTheDocument();
    expect(within(card).getByRole('switch', { name: 'Auto-renewal' })).toBeChecked();
    // Plans on sale are for members without a live subscription.
    expect(screen.queryByTestId('membership-plans')).toBeNull();
    expect(calls.find((c) => c.name === 'AccountMembership')?.variables).toEqual({ id: accountId, language: 'en' });

    // The history opens on demand, with the moves and their reasons.
    await userEvent.click(within(card).getByRole('button', { name: 'Show history' }));
    const moves = await within(card).findAllByTestId('membership-transition');
    expect(moves).toHaveLength(2);
    expect(moves[1]).toHaveTextContent('Awaiting payment → Free trial');
    expect(moves[1]).toHaveTextContent('Free trial of 14 days');
    expect(moves[1]).toHaveTextContent('By you');
    expect(within(card).getByText('No payments yet.')).toBeInTheDocument();
  });

  it('turns auto-renewal off and shows the server\'s answer', async () => {
    const { calls } = renderWithProviders(<MembershipCard accountId={accountId} />, {
      mocks: {
        AccountMembership: membership(trialing),
        SubscriptionAutoRenewSet: (variables) => ({
          data: {
            subscriptionAutoRenewSet: {
              subscription: { ...trialing, autoRenew: variables.autoRenew, nextChargeAt: null, member },
              errors: [],
            },
          },
        }),
      },
    });
    const toggle = await screen.findByRole('switch', { name: 'Auto-renewal' });
    expect(toggle).toBeChecked();
    await userEvent.click(toggle);
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'SubscriptionAutoRenewSet')?.variables).toEqual({
        id: subscriptionId,
        autoRenew: false,
        language: 'en',
      }),
    );
    await waitFor(() => expect(screen.getByRole('switch', { name: 'Auto-renewal' })).not.toBeChecked());
    expect(screen.getByTestId('membership-renewal')).toHaveTextContent(`Ends on ${formatDate(trialing.currentPeriodEnd)}`);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shows a refused toggle\'s error and reverts the switch', async () => {
    const { calls } = renderWithProviders(<MembershipCard accountId={accountId} />, {
      mocks: {
        AccountMembership: membership(trialing),
        SubscriptionAutoRenewSet: {
          data: {
            subscriptionAutoRenewSet: {
              subscription: null,
              errors: [{ code: 'INVALID_STATE', message: 'A expired membership cannot change auto-renewal.', field: 'id' }],
            },
          },
        },
      },
    });
    const toggle = await screen.findByRole('switch', { name: 'Auto-renewal' });
    await userEvent.click(toggle);
    expect(await screen.findByRole('alert')).toHaveTextContent('This membership cannot be changed in its current state.');
    expect(calls.filter((c) => c.name === 'SubscriptionAutoRenewSet')).toHaveLength(1);
    expect(screen.getByRole('switch', { name: 'Auto-renewal' })).toBeChecked();
    expect(screen.getByTestId('membership-renewal')).toHaveTextContent('Next renewal');
  });

  it('cancels at the end of the period after confirming', async () => {
    const { calls } = renderWithProviders(<MembershipCard accountId={accountId} />, {
      mocks: {
        AccountMembership: membership(trialing),
        SubscriptionCancel: {
          data: {
            subscriptionCancel: {
              subscription: { ...trialing, cancelAtPeriodEnd: true, nextChargeAt: null, member },
              errors: [],
            },
          },
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel membership' }));
    const dialog = await screen.findByTestId('membership-cancel-dialog');
    expect(dialog).toHaveTextContent(`stay until ${formatDate(trialing.currentPeriodEnd)}`);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Yes, cancel it' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'SubscriptionCancel')?.variables).toEqual({
        id: subscriptionId,
        atPeriodEnd: true,
        language: 'en',
      }),
    );
    await waitFor(() =>
      expect(screen.getByTestId('membership-renewal')).toHaveTextContent(
        `Cancelled: ends on ${formatDate(trialing.currentPeriodEnd)}`,
      ),
    );
    expect(screen.queryByRole('button', { name: 'Cancel membership' })).toBeNull();
    // Cancelled at the period's end, the switch reads off; turning it on withdraws the cancellation.
    expect(screen.getByRole('switch', { name: 'Auto-renewal' })).not.toBeChecked();
    expect(screen.getByRole('switch', { name: 'Auto-renewal' })).toBeEnabled();
  });

  it('warns of a failed payment with the retry date', async () => {
    const pastDue = {
      ...trialing,
      status: 'PAST_DUE',
      trialEnd: null,
      nextChargeAt: '2026-12-24T10:00:00Z',
      payments: [
        {
          id: 'TWVtYmVyc2hpcFBheW1lbnQ6Mg==',
          outcome: 'FAILED',
          amount: '9.99',
          currency: 'USD',
          periodStart: null,
          periodEnd: null,
          points: 0,
          createdAt: '2026-12-21T10:05:00Z',
        },
        {
          id: 'TWVtYmVyc2hpcFBheW1lbnQ6MQ==',
          outcome: 'SUCCEEDED',
          amount: '9.99',
          currency: 'USD',
          periodStart: '2026-11-21T10:00:00Z',
          periodEnd: '2026-12-21T10:00:00Z',
          points: 20,
          createdAt: '2026-11-21T10:05:00Z',
        },
      ],
    };
    renderWithProviders(<MembershipCard accountId={accountId} />, { mocks: { AccountMembership: membership(pastDue) } });
    const alert = await screen.findByTestId('membership-past-due');
    expect(alert).toHaveTextContent('Your payment failed');
    expect(alert).toHaveTextContent(`try again on ${formatDate('2026-12-24T10:00:00Z')}`);
    expect(screen.getByTestId('membership-status')).toHaveTextContent('Payment overdue');
    expect(screen.queryByTestId('membership-trial')).toBeNull();

    await userEvent.click(screen.getByRole('button', { name: 'Show history' }));
    const payments = await screen.findAllByTestId('membership-payment');
    expect(payments.map((p) => p.dataset.outcome)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(payments[0]).toHaveTextContent('Failed');
    expect(payments[1]).toHaveTextContent('$9.99');
    expect(payments[1]).toHaveTextContent('+20 pts');
  });

  it('says a pending subscription waits for the checkout\'s first payment', async () => {
    const pending = { ...trialing, status: 'PENDING', trialEnd: null, currentPeriodStart: null, currentPeriodEnd: null, nextChargeAt: null };
    renderWithProviders(<MembershipCard accountId={accountId} />, { mocks: { AccountMembership: membership(pending) } });
    expect(await screen.findByTestId('membership-pending')).toHaveTextContent("the shop's checkout completes your first payment");
    expect(screen.queryByTestId('membership-renewal')).toBeNull();
  });

  it('offers the plans on sale without a live subscription, and subscribes', async () => {
    const { calls } = renderWithProviders(<MembershipCard accountId={accountId} />, {
      mocks: {
        AccountMembership: membership(null),
        MembershipSubscribe: { data: { membershipSubscribe: { subscription: { ...trialing, member }, errors: [] } } },
      },
    });
    const plans = await screen.findAllByTestId('membership-plan');
    expect(plans.map((p) => p.dataset.planName)).toEqual(['VIP Gold', 'VIP Platinum yearly']);
    expect(plans[0]).toHaveTextContent('$9.99 per month');
    expect(within(plans[0]).getByTestId('membership-plan-trial')).toHaveTextContent('14-day free trial');
    expect(within(plans[0]).getByTestId('membership-tier')).toHaveTextContent('Gold');
    expect(within(plans[0]).getByText('Gold tier while subscribed')).toBeInTheDocument();
    expect(plans[1]).toHaveTextContent('$99.00 per year');
    expect(within(plans[1]).queryByTestId('membership-plan-trial')).toBeNull();
    expect(within(plans[1]).queryByTestId('membership-multiplier')).toBeNull();
    expect(screen.queryByRole('switch')).toBeNull();

    await userEvent.click(screen.getByRole('button', { name: 'Subscribe to VIP Gold' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'MembershipSubscribe')?.variables).toEqual({ planId: vipGold.id, language: 'en' }),
    );
    expect(await screen.findByTestId('membership-trial')).toBeInTheDocument();
    expect(screen.queryByTestId('membership-plans')).toBeNull();
  });

  it('shows a refused subscription', async () => {
    renderWithProviders(<MembershipCard accountId={accountId} />, {
      mocks: {
        AccountMembership: membership(null, [vipGold]),
        MembershipSubscribe: {
          data: {
            membershipSubscribe: {
              subscription: null,
              errors: [{ code: 'ALREADY_SUBSCRIBED', message: 'You already have a membership in this shop.', field: 'planId' }],
            },
          },
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Subscribe to VIP Gold' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('You already have a membership in this shop.');
    expect(screen.getByTestId('membership-plans')).toBeInTheDocument();
  });

  it('lists the plans again after a membership ended', async () => {
    const expired = { ...trialing, status: 'EXPIRED', endedAt: '2026-12-21T10:00:00Z' };
    renderWithProviders(<MembershipCard accountId={accountId} />, { mocks: { AccountMembership: membership(expired) } });
    expect(await screen.findByTestId('membership-ended')).toHaveTextContent(
      `Your VIP Gold membership: Expired on ${formatDate('2026-12-21T10:00:00Z')}.`,
    );
    expect(screen.getAllByTestId('membership-plan')).toHaveLength(2);
  });

  it('renders nothing when the shop sells no plan and the member has none', async () => {
    const { calls } = renderWithProviders(<MembershipCard accountId={accountId} />, {
      mocks: { AccountMembership: membership(null, []) },
    });
    await waitFor(() => expect(calls.some((c) => c.name === 'AccountMembership')).toBe(true));
    expect(screen.queryByTestId('membership-card')).toBeNull();
  });

  it("speaks Persian: the plan's name asked in fa, Persian dates and labels", async () => {
    await i18n.changeLanguage('fa');
    try {
      const { calls } = renderWithProviders(<MembershipCard accountId={accountId} />, {
        mocks: { AccountMembership: membership({ ...trialing, plan: { ...vipGold, localizedName: 'طلایی ویژه' } }) },
      });
      expect(await screen.findByTestId('membership-plan-name')).toHaveTextContent('طلایی ویژه');
      expect(calls.find((c) => c.name === 'AccountMembership')?.variables).toEqual({ id: accountId, language: 'fa' });
      expect(screen.getByRole('switch', { name: 'تمدید خودکار' })).toBeChecked();
      expect(screen.getByTestId('membership-status')).toHaveTextContent('دورهٔ آزمایشی رایگان');
      // The Persian calendar: 21 December 2026 is 30 Azar 1405.
      expect(screen.getByTestId('membership-trial')).toHaveTextContent(`آزمایش رایگان تا ${formatDate(trialing.trialEnd)}`);
      expect(formatDate(trialing.trialEnd)).toContain('۱۴۰۵');
      // Untranslated benefits fall back to the English lines.
      expect(screen.getByText('Double points on every order')).toBeInTheDocument();
    } finally {
      await i18n.changeLanguage('en');
    }
  });
});

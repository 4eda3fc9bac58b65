import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SubscriptionsPage, subscriptionVariables } from './SubscriptionsPage';
import { renderConsolePage } from './testing';
import i18n from '../i18n';

const SHOP = 'U2hvcDox';
const GOLD_PLAN = 'TWVtYmVyc2hpcFBsYW46MQ==';
const YEAR_PLAN = 'TWVtYmVyc2hpcFBsYW46Mg==';
const ADA = 'TWVtYmVyc2hpcFN1YnNjcmlwdGlvbjox';
const BOB = 'TWVtYmVyc2hpcFN1YnNjcmlwdGlvbjoy';

const node = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  status: 'ACTIVE',
  autoRenew: true,
  cancelAtPeriodEnd: false,
  currentPeriodEnd: '2027-01-01T00:00:00Z',
  nextChargeAt: '2027-01-01T00:00:00Z',
  plan: { id: GOLD_PLAN, name: 'Gold monthly' },
  member: { id: `acc-${id}`, member: { displayName: name, email: `${name.toLowerCase()}@example.com`, phone: '' } },
  ...extra,
});

const page = (nodes = [node(ADA, 'Ada'), node(BOB, 'Bob', { status: 'PAST_DUE', autoRenew: false })], hasNextPage = false) => ({
  data: {
    shop: {
      id: SHOP,
      allMembershipPlans: [
        { id: GOLD_PLAN, name: 'Gold monthly' },
        { id: YEAR_PLAN, name: 'Gold yearly' },
      ],
      subscriptions: {
        totalCount: nodes.length,
        pageInfo: { hasNextPage, endCursor: hasNextPage ? 'cursor-20' : null },
        edges: nodes.map((n, i) => ({ cursor: `c${i}`, node: n })),
      },
    },
  },
});

const figures = (churnRate: string | null = '0.025') => ({
  data: {
    shop: {
      id: SHOP,
      membershipFigures: {
        currency: 'USD',
        days: 30,
        activeSubscribers: 42,
        trialing: 5,
        pastDue: 3,
        mrr: '1234.50',
        churned: 2,
        churnRate,
        revenue: '2500.00',
        plans: [
          { plan: { id: GOLD_PLAN, name: 'Gold monthly' }, subscribers: 30, revenue: '900.00' },
          { plan: { id: YEAR_PLAN, name: 'Gold yearly' }, subscribers: 17, revenue: '1600.00' },
        ],
      },
    },
  },
});

const option = (name: string) => screen.queryByRole('option', { name, hidden: true });

async function pick(combobox: HTMLElement, name: string) {
  await userEvent.click(combobox);
  await waitFor(() => expect(option(name)).toBeInTheDocument());
  await userEvent.click(option(name)!);
}

const rows = () => screen.getAllByTestId('subscription-row');

describe('subscriptionVariables', () => {
  it('sends no statuses for "any" and a trimmed search', () => {
    expect(subscriptionVariables({ statuses: [], planId: null, search: '  ada ' })).toEqual({ statuses: null, planId: null, search: 'ada' });
    expect(subscriptionVariables({ statuses: ['ACTIVE', 'PAST_DUE'], planId: GOLD_PLAN, search: '' })).toEqual({
      statuses: ['ACTIVE', 'PAST_DUE'],
      planId: GOLD_PLAN,
      search: '',
    });
  });
});

// Mantine's inputs in jsdom are slow on a busy machine.
describe('SubscriptionsPage', { timeout: 20000 }, () => {
  it('shows the figures, the per-plan table and the subscriptions', async () => {
    renderConsolePage(<SubscriptionsPage />, { mocks: { ConsoleMembershipFigures: figures(), ConsoleSubscriptions: page() } });
    expect(await screen.findByTestId('figure-active')).toHaveTextContent('42');
    expect(screen.getByTestId('figure-trialing')).toHaveTextContent('5');
    expect(screen.getByTestId('figure-pastDue')).toHaveTextContent('3');
    expect(screen.getByTestId('figure-mrr')).toHaveTextContent('$1,234.50');
    expect(screen.getByTestId('figure-churn')).toHaveTextContent('2.5%');
    expect(screen.getByTestId('figure-revenue')).toHaveTextContent('$2,500.00');
    const perPlan = screen.getByTestId('plan-figures');
    expect(within(perPlan).getByText('Gold yearly').closest('tr')).toHaveTextContent('Gold yearly17$1,600.00');

    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(rows()[0]).toHaveTextContent('Ada');
    expect(within(rows()[0]).getByTestId('subscription-status')).toHaveTextContent('Active');
    expect(within(rows()[1]).getByTestId('subscription-status')).toHaveTextContent('Past due');
    expect(rows()[1]).toHaveTextContent('Off');
  });

  it('shows a dash for a churn rate with no base', async () => {
    renderConsolePage(<SubscriptionsPage />, { mocks: { ConsoleMembershipFigures: figures(null), ConsoleSubscriptions: page() } });
    expect(await screen.findByTestId('figure-churn')).toHaveTextContent('—');
  });

  it('speaks Persian: statuses, figures and money in Persian digits', async () => {
    await i18n.changeLanguage('fa');
    try {
      renderConsolePage(<SubscriptionsPage />, { mocks: { ConsoleMembershipFigures: figures(), ConsoleSubscriptions: page() } });
      await waitFor(() => expect(rows()).toHaveLength(2));
      expect(within(rows()[0]).getByTestId('subscription-status')).toHaveTextContent('فعال');
      expect(within(rows()[1]).getByTestId('subscription-status')).toHaveTextContent('سررسید گذشته');
      expect(screen.getByTestId('figure-active')).toHaveTextContent('مشترکان فعال۴۲');
    } finally {
      await i18n.changeLanguage('en');
    }
  });

  it('sends the filters and the page cursor as query variables', async () => {
    const { calls } = renderConsolePage(<SubscriptionsPage />, {
      mocks: { ConsoleMembershipFigures: figures(), ConsoleSubscriptions: (v) => page(undefined, v.after == null) },
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    const last = () => calls.filter((c) => c.name === 'ConsoleSubscriptions').at(-1)!.variables;
    expect(last()).toEqual({ slug: 'demo-coffee', statuses: null, planId: null, search: '', first: 20, after: null });

    await userEvent.click(screen.getByRole('button', { name: /Next/ }));
    await waitFor(() => expect(last()).toMatchObject({ after: 'cursor-20' }));

    await pick(screen.getByRole('combobox', { name: 'Plan' }), 'Gold yearly');
    // A new filter starts from the first page.
    await waitFor(() => expect(last()).toMatchObject({ planId: YEAR_PLAN, after: null }));

    await pick(screen.getByRole('combobox', { name: 'Status' }), 'Past due');
    await waitFor(() => expect(last()).toMatchObject({ statuses: ['PAST_DUE'], planId: YEAR_PLAN }));

    await userEvent.type(screen.getByRole('searchbox', { name: 'Search' }), 'ada');
    await waitFor(() => expect(last()).toMatchObject({ search: 'ada', statuses: ['PAST_DUE'], planId: YEAR_PLAN, after: null }));
  });

  it('runs a bulk action on the selected rows, shows its progress and failures, then reloads', async () => {
    let polls = 0;
    const { calls } = renderConsolePage(<SubscriptionsPage pollInterval={300} />, {
      mocks: {
        ConsoleMembershipFigures: figures(),
        ConsoleSubscriptions: page(),
        ConsoleSubscriptionsBulkStart: {
          data: {
            subscriptionsBulkStart: {
              action: { id: 'bulk-1', kind: 'DISABLE_AUTO_RENEW', total: 2, done: 0, changed: 0, finishedAt: null, failures: [] },
              errors: [],
            },
          },
        },
        ConsoleSubscriptionBulkAction: () => {
          polls += 1;
          const finished = polls >= 3;
          return {
            data: {
              shop: {
                id: SHOP,
                subscriptionBulkAction: {
                  id: 'bulk-1',
                  kind: 'DISABLE_AUTO_RENEW',
                  total: 2,
                  done: finished ? 2 : 1,
                  changed: 1,
                  createdAt: '2026-12-07T00:00:00Z',
                  finishedAt: finished ? '2026-12-07T00:00:02Z' : null,
                  failures: finished ? [{ subscriptionId: BOB, code: 'INVALID_STATE', message: 'Auto-renewal is already off.' }] : [],
                },
              },
            },
          };
        },
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    const disable = screen.getByRole('button', { name: 'Disable auto-renewal' });
    expect(disable).toBeDisabled();
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select all on this page' }));
    expect(screen.getByTestId('subscriptions-selected')).toHaveTextContent('2 selected');
    await userEvent.click(disable);

    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleSubscriptionsBulkStart')?.variables).toEqual({
        shopId: SHOP,
        kind: 'DISABLE_AUTO_RENEW',
        subscriptionIds: [ADA, BOB],
      }),
    );
    expect(await screen.findByText('1/2 handled · 1 changed')).toBeInTheDocument();
    expect(screen.getByTestId('bulk-progress')).toHaveAttribute('data-finished', 'false');
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '50');

    await waitFor(() => expect(screen.getByTestId('bulk-progress')).toHaveAttribute('data-finished', 'true'), { timeout: 3000 });
    expect(screen.getByTestId('bulk-counts')).toHaveTextContent('2/2 handled · 1 changed');
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
    expect(screen.getByTestId('bulk-failures')).toHaveTextContent('1 could not be changed');
    expect(screen.getByTestId('bulk-failures')).toHaveTextContent('Bob: Not possible in this state — Auto-renewal is already off.');
    expect(polls).toBe(3);
    // The table and the figures are read again, and the selection is cleared.
    await waitFor(() => expect(calls.filter((c) => c.name === 'ConsoleSubscriptions').length).toBeGreaterThanOrEqual(2));
    expect(calls.filter((c) => c.name === 'ConsoleMembershipFigures').length).toBeGreaterThanOrEqual(2);
    expect(screen.getByTestId('subscriptions-selected')).toHaveTextContent('0 selected');
    // No more polling once finished.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(polls).toBe(3);
  });

  it('asks before cancelling in bulk and shows a refused start', async () => {
    const { calls } = renderConsolePage(<SubscriptionsPage />, {
      mocks: {
        ConsoleMembershipFigures: figures(),
        ConsoleSubscriptions: page(),
        ConsoleSubscriptionsBulkStart: {
          data: { subscriptionsBulkStart: { action: null, errors: [{ field: 'subscriptionIds', code: 'INVALID_INPUT', message: 'Too many.' }] } },
        },
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select Bob' }));
    await userEvent.click(screen.getByRole('button', { name: 'Cancel now' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('Cancel 1 subscription now?');
    expect(calls.some((c) => c.name === 'ConsoleSubscriptionsBulkStart')).toBe(false);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel now' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleSubscriptionsBulkStart')?.variables).toEqual({ shopId: SHOP, kind: 'CANCEL', subscriptionIds: [BOB] }),
    );
    expect((await screen.findByText(/Too many\./)).closest('[role="alert"]')).not.toBeNull();
  });

  it('opens a subscription with its history and payments, and pauses it', async () => {
    const detail = {
      ...node(ADA, 'Ada'),
      createdAt: '2026-10-01T00:00:00Z',
      startedAt: '2026-10-01T00:00:00Z',
      trialEnd: null,
      currentPeriodStart: '2026-12-01T00:00:00Z',
      chargeAttempts: 0,
      endedAt: null,
      plan: { id: GOLD_PLAN, name: 'Gold monthly', price: '9.99', currency: 'USD' },
      transitions: [
        { reason: 'Subscribed', actorKind: 'MEMBER', createdAt: '2026-10-01T00:00:00Z', fromStatus: null, toStatus: 'PENDING' },
        { reason: 'First payment', actorKind: 'SHOP_SYSTEM', createdAt: '2026-10-01T00:05:00Z', fromStatus: 'PENDING', toStatus: 'ACTIVE' },
      ],
      payments: [
        {
          id: 'cGF5MQ==',
          outcome: 'SUCCEEDED',
          amount: '9.99',
          currency: 'USD',
          providerReference: 'ch_1',
          periodStart: '2026-12-01T00:00:00Z',
          periodEnd: '2027-01-01T00:00:00Z',
          points: 10,
          createdAt: '2026-12-01T00:00:00Z',
        },
        {
          id: 'cGF5Mg==',
          outcome: 'FAILED',
          amount: '9.99',
          currency: 'USD',
          providerReference: 'ch_0',
          periodStart: null,
          periodEnd: null,
          points: 0,
          createdAt: '2026-11-30T00:00:00Z',
        },
      ],
    };
    const { calls } = renderConsolePage(<SubscriptionsPage />, {
      mocks: {
        ConsoleMembershipFigures: figures(),
        ConsoleSubscriptions: page(),
        ConsoleSubscriptionDetail: {
          data: { shop: { id: SHOP, member: { id: `acc-${ADA}`, member: { displayName: 'Ada', email: '', phone: '' }, subscriptionHistory: [detail] } } },
        },
        ConsoleSubscriptionPause: {
          data: {
            subscriptionPause: {
              subscription: { id: ADA, status: 'PAUSED', autoRenew: true, cancelAtPeriodEnd: false, currentPeriodEnd: null, nextChargeAt: null },
              errors: [],
            },
          },
        },
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await userEvent.click(within(rows()[0]).getByText('Gold monthly'));
    const drawer = await screen.findByTestId('subscription-detail');
    expect(calls.find((c) => c.name === 'ConsoleSubscriptionDetail')?.variables).toEqual({ slug: 'demo-coffee', accountId: `acc-${ADA}` });
    const history = within(drawer).getByTestId('subscription-transitions');
    // Newest first.
    expect(within(history).getAllByRole('row')[1]).toHaveTextContent('Pending → Active');
    expect(within(history).getAllByRole('row')[1]).toHaveTextContent("Shop's system");
    expect(within(history).getAllByRole('row')[2]).toHaveTextContent('— → Pending');
    const payments = within(drawer).getByTestId('subscription-payments');
    expect(within(payments).getAllByRole('row')[1]).toHaveTextContent('Paid');
    expect(within(payments).getAllByRole('row')[1]).toHaveTextContent('$9.99');
    expect(within(payments).getAllByRole('row')[2]).toHaveTextContent('Failed');
    expect(within(drawer).queryByRole('button', { name: 'Resume' })).toBeNull();

    await userEvent.click(within(drawer).getByRole('button', { name: 'Pause' }));
    await waitFor(() => expect(calls.find((c) => c.name === 'ConsoleSubscriptionPause')?.variables).toEqual({ id: ADA }));
    await waitFor(() => expect(calls.filter((c) => c.name === 'ConsoleSubscriptions').length).toBeGreaterThanOrEqual(2));
  });

  it('shows a refused single action next to the subscription', async () => {
    renderConsolePage(<SubscriptionsPage />, {
      mocks: {
        ConsoleMembershipFigures: figures(),
        ConsoleSubscriptions: page(),
        ConsoleSubscriptionDetail: {
          data: {
            shop: {
              id: SHOP,
              member: {
                id: `acc-${BOB}`,
                member: { displayName: 'Bob', email: '', phone: '' },
                subscriptionHistory: [
                  {
                    ...node(BOB, 'Bob', { status: 'PAST_DUE' }),
                    createdAt: '2026-10-01T00:00:00Z',
                    startedAt: null,
                    trialEnd: null,
                    currentPeriodStart: null,
                    chargeAttempts: 2,
                    endedAt: null,
                    plan: { id: GOLD_PLAN, name: 'Gold monthly', price: '9.99', currency: 'USD' },
                    transitions: [],
                    payments: [],
                  },
                ],
              },
            },
          },
        },
        ConsoleSubscriptionRetryNow: {
          data: { subscriptionRetryNow: { subscription: null, errors: [{ field: 'id', code: 'INVALID_STATE', message: 'Not past due.' }] } },
        },
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'Bob' }));
    const drawer = await screen.findByTestId('subscription-detail');
    await userEvent.click(within(drawer).getByRole('button', { name: 'Retry charge now' }));
    expect((await within(drawer).findByText('Not possible in this state — Not past due.')).closest('[role="alert"]')).not.toBeNull();
  });
});

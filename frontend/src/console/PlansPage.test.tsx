import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { PlansPage, benefitLines, planErrorField } from './PlansPage';
import { ConsoleRoutes } from './index';
import { renderConsolePage, staffSession, testShop } from './testing';
import { renderWithProviders } from '../test/utils';

const SHOP = 'U2hvcDox';
const GOLD = 'VGllcjoz';
const SILVER = 'VGllcjoy';

const plan = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  name,
  benefits: ['Free delivery'],
  price: '9.99',
  currency: 'USD',
  intervalUnit: 'MONTH',
  intervalCount: 1,
  trialDays: 0,
  earnMultiplier: '1',
  reminderDays: 3,
  archivedAt: null,
  monthlyPrice: '9.99',
  tier: { id: GOLD, name: 'Gold', color: '#d4af37' },
  translations: [],
  ...extra,
});

const monthly = plan('TWVtYmVyc2hpcFBsYW46MQ==', 'Gold monthly', { trialDays: 14, earnMultiplier: '1.5' });
const yearly = plan('TWVtYmVyc2hpcFBsYW46Mg==', 'Gold yearly', {
  price: '99.00',
  intervalUnit: 'YEAR',
  monthlyPrice: '8.25',
  translations: [{ language: 'fa', name: 'طلایی سالانه', benefits: ['ارسال رایگان'] }],
});
const daily = plan('TWVtYmVyc2hpcFBsYW46Mw==', 'Old 30 days', {
  price: '12.00',
  intervalUnit: 'DAY',
  intervalCount: 30,
  monthlyPrice: '12.17',
  archivedAt: '2026-10-01T00:00:00Z',
  tier: { id: SILVER, name: 'Silver', color: '#c0c0c0' },
});

const list = (plans: unknown[] = [monthly, yearly, daily]) => ({
  data: {
    shop: {
      id: SHOP,
      allMembershipPlans: plans,
      program: {
        id: 'UHJvZ3JhbTox',
        tiers: [
          { id: SILVER, name: 'Silver' },
          { id: GOLD, name: 'Gold' },
        ],
      },
    },
  },
});

const rows = () => screen.getAllByTestId('console-plan');

// jsdom never finishes a dropdown's transition, so its options count as hidden.
const option = (name: string) => screen.queryByRole('option', { name, hidden: true });

/** Replaces an input's text at once (typing a whole form key by key is slow in jsdom). */
async function fill(input: HTMLElement, text: string) {
  await userEvent.clear(input);
  await userEvent.click(input);
  await userEvent.paste(text);
}

async function pick(combobox: HTMLElement, name: string) {
  await userEvent.click(combobox);
  await waitFor(() => expect(option(name)).toBeInTheDocument());
  await userEvent.click(option(name)!);
}

describe('plan helpers', () => {
  it('reads benefit lines and maps server fields onto the form', () => {
    expect(benefitLines(' Free delivery \n\n  Priority support\n')).toEqual(['Free delivery', 'Priority support']);
    expect(planErrorField('price')).toBe('price');
    expect(planErrorField('benefits.2')).toBe('benefits');
    expect(planErrorField('translations.0.name')).toBe('nameFa');
    expect(planErrorField('translations[0].benefits[1]')).toBe('benefitsFa');
    expect(planErrorField(null)).toBeNull();
  });
});

// A whole form in jsdom is slow on a busy machine.
describe('PlansPage', { timeout: 20000 }, () => {
  it('lists every plan with its price per interval, trial, tier, multiplier and archived badge', async () => {
    renderConsolePage(<PlansPage />, { mocks: { ConsolePlans: list() } });
    await waitFor(() => expect(rows()).toHaveLength(3));
    const [m, y, d] = rows();
    expect(within(m).getByTestId('plan-price')).toHaveTextContent('$9.99 / month');
    expect(m).toHaveTextContent('14 days');
    expect(m).toHaveTextContent('Gold');
    expect(m).toHaveTextContent('×1.5');
    expect(within(y).getByTestId('plan-price')).toHaveTextContent('$99.00 / year');
    expect(y).toHaveTextContent('$8.25');
    expect(within(d).getByTestId('plan-price')).toHaveTextContent('$12.00 / 30 days');
    expect(d).toHaveAttribute('data-archived', 'true');
    expect(within(d).getByTestId('plan-archived')).toHaveTextContent('Archived');
    expect(within(m).queryByTestId('plan-archived')).toBeNull();
    expect(within(d).getByRole('button', { name: 'Put Old 30 days back on sale' })).toBeInTheDocument();
  });

  it('creates a plan with the price as a Decimal string and the Persian translation', async () => {
    const { calls } = renderConsolePage(<PlansPage />, {
      mocks: {
        ConsolePlans: list([]),
        ConsolePlanCreate: { data: { membershipPlanCreate: { plan: monthly, errors: [] } } },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'New plan' }));
    const dialog = await screen.findByRole('dialog');
    await fill(within(dialog).getByRole('textbox', { name: /^Name\s*\*?$/ }), 'Gold monthly');
    await fill(within(dialog).getByRole('textbox', { name: /^Price/ }), '9.99');
    await fill(within(dialog).getByRole('textbox', { name: /^Free trial/ }), '14');
    await pick(within(dialog).getByRole('combobox', { name: /^Tier granted/ }), 'Gold');
    await fill(within(dialog).getByRole('textbox', { name: /^Extra earning multiplier/ }), '1.5');
    await fill(within(dialog).getByRole('textbox', { name: 'Benefits' }), 'Free delivery\n\nPriority support');
    await fill(within(dialog).getByRole('textbox', { name: 'Name (Persian)' }), 'طلایی ماهانه');
    await fill(within(dialog).getByRole('textbox', { name: /^Benefits \(Persian\)/ }), 'ارسال رایگان');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(calls.find((c) => c.name === 'ConsolePlanCreate')).toBeDefined());
    expect(calls.find((c) => c.name === 'ConsolePlanCreate')!.variables).toEqual({
      shopId: SHOP,
      input: {
        name: 'Gold monthly',
        price: '9.99',
        intervalUnit: 'MONTH',
        intervalCount: 1,
        trialDays: 14,
        tierId: GOLD,
        earnMultiplier: '1.5',
        reminderDays: 3,
        benefits: ['Free delivery', 'Priority support'],
        translations: [{ language: 'fa', name: 'طلایی ماهانه', benefits: ['ارسال رایگان'] }],
      },
    });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    // The list is read again after the save.
    await waitFor(() => expect(calls.filter((c) => c.name === 'ConsolePlans').length).toBeGreaterThanOrEqual(2));
  });

  it('edits a plan, keeping its fields, and shows a coded server error under the field it names', async () => {
    const { calls } = renderConsolePage(<PlansPage />, {
      mocks: {
        ConsolePlans: list(),
        ConsolePlanUpdate: {
          data: {
            membershipPlanUpdate: {
              plan: null,
              errors: [
                { field: 'tierId', code: 'INVALID_INPUT', message: 'Members hold the plan’s tier now.' },
                { field: null, code: 'INVALID_INPUT', message: 'Check the plan.' },
              ],
            },
          },
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Edit Gold yearly' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByRole('textbox', { name: 'Name (Persian)' })).toHaveValue('طلایی سالانه');
    await pick(within(dialog).getByRole('combobox', { name: /^Tier granted/ }), 'Silver');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));

    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsolePlanUpdate')?.variables).toEqual({
        id: yearly.id,
        input: {
          name: 'Gold yearly',
          price: '99.00',
          intervalUnit: 'YEAR',
          intervalCount: 1,
          trialDays: 0,
          tierId: SILVER,
          earnMultiplier: '1',
          reminderDays: 3,
          benefits: ['Free delivery'],
          translations: [{ language: 'fa', name: 'طلایی سالانه', benefits: ['ارسال رایگان'] }],
        },
      }),
    );
    expect(await within(dialog).findByText('Members hold the plan’s tier now.')).toBeInTheDocument();
    expect(within(dialog).getByRole('combobox', { name: /^Tier granted/ })).toHaveAttribute('aria-invalid', 'true');
    expect(within(dialog).getByText('Check the plan.').closest('[role="alert"]')).not.toBeNull();
    expect(screen.getByRole('dialog')).toBeInTheDocument();
  });

  it('puts a price error from the server under the price', async () => {
    renderConsolePage(<PlansPage />, {
      mocks: {
        ConsolePlans: list(),
        ConsolePlanUpdate: {
          data: { membershipPlanUpdate: { plan: null, errors: [{ field: 'price', code: 'INVALID_INPUT', message: 'At most 2 decimal places.' }] } },
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Edit Gold monthly' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await within(dialog).findByText('At most 2 decimal places.')).toBeInTheDocument();
    expect(within(dialog).getByRole('textbox', { name: /^Price/ })).toHaveAttribute('aria-invalid', 'true');
  });

  it('archives and puts back on sale after a confirm', async () => {
    const { calls } = renderConsolePage(<PlansPage />, {
      mocks: {
        ConsolePlans: list(),
        ConsolePlanArchive: (v) => ({
          data: { membershipPlanArchive: { plan: { id: v.id, archivedAt: v.archived ? '2026-12-01T00:00:00Z' : null }, errors: [] } },
        }),
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Archive Gold monthly' }));
    const confirm = await screen.findByRole('dialog');
    expect(confirm).toHaveTextContent('Stop selling “Gold monthly”?');
    expect(calls.some((c) => c.name === 'ConsolePlanArchive')).toBe(false);
    await userEvent.click(within(confirm).getByRole('button', { name: 'Archive' }));
    await waitFor(() => expect(calls.find((c) => c.name === 'ConsolePlanArchive')?.variables).toEqual({ id: monthly.id, archived: true }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    await userEvent.click(screen.getByRole('button', { name: 'Put Old 30 days back on sale' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Put back on sale' }));
    await waitFor(() =>
      expect(calls.filter((c) => c.name === 'ConsolePlanArchive').map((c) => c.variables)).toEqual([
        { id: monthly.id, archived: true },
        { id: daily.id, archived: false },
      ]),
    );
  });

  it('shows a refused archive as an alert', async () => {
    renderConsolePage(<PlansPage />, {
      mocks: {
        ConsolePlans: list(),
        ConsolePlanArchive: { data: { membershipPlanArchive: { plan: null, errors: [{ field: null, code: 'NOT_FOUND', message: 'No such plan.' }] } } },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Archive Gold monthly' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Archive' }));
    expect((await screen.findByText('No such plan.')).closest('[role="alert"]')).not.toBeNull();
  });

  it('refuses cashiers', () => {
    renderConsolePage(<PlansPage />, {
      shop: { id: SHOP, name: 'Demo Coffee', slug: 'demo-coffee', currency: 'USD', timezone: 'America/New_York', role: 'CASHIER', canEdit: false },
    });
    expect(screen.getByTestId('console-forbidden')).toBeInTheDocument();
  });

  it('is a console section for owners and managers only', async () => {
    renderWithProviders(<ConsoleRoutes />, {
      session: staffSession(testShop()),
      route: '/console/demo-coffee/plans',
      path: '/console/:shopSlug/*',
      mocks: { ConsolePlans: list() },
    });
    expect(await screen.findByRole('tab', { name: 'Plans' })).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByRole('tab', { name: 'Subscriptions' })).toBeInTheDocument();
    await waitFor(() => expect(rows()).toHaveLength(3));
  });

  it('is hidden from cashiers', () => {
    renderWithProviders(<ConsoleRoutes />, {
      session: staffSession(testShop({ role: 'CASHIER', canEdit: false })),
      route: '/console/demo-coffee/members',
      path: '/console/:shopSlug/*',
    });
    expect(screen.queryByRole('tab', { name: 'Plans' })).toBeNull();
    expect(screen.queryByRole('tab', { name: 'Subscriptions' })).toBeNull();
  });
});

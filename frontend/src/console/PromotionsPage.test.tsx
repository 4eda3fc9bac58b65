import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { PromotionsPage, promotionValue } from './PromotionsPage';
import { renderConsolePage, testShop } from './testing';

const promotion = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  name,
  description: '',
  kind: 'PERCENTAGE',
  value: '10.00',
  buyQuantity: 0,
  getQuantity: 0,
  freeProductId: null,
  productIds: [],
  categorySlugs: [],
  tierIds: [],
  paymentTypes: [],
  minimumAmount: '0.00',
  startsAt: null,
  endsAt: null,
  weekdays: [],
  hourFrom: null,
  hourTo: null,
  requiresCoupon: true,
  priority: 10,
  stacking: 'STACKABLE',
  usageLimit: null,
  usageLimitPerMember: null,
  active: true,
  createdAt: '2026-11-01T10:00:00Z',
  stats: { uses: 0, discountGiven: '0.00', revenue: '0.00' },
  ...extra,
});

const blackFriday = promotion('UHJvbW90aW9uOjE=', 'Black Friday', {
  kind: 'CHEAPEST_FREE',
  value: '0.00',
  buyQuantity: 2,
  tierIds: ['VGllcjoz'],
  weekdays: [5],
  hourFrom: 8,
  hourTo: 20,
  priority: 20,
  stacking: 'EXCLUSIVE',
  stats: { uses: 12, discountGiven: '84.50', revenue: '1234.00' },
});
const welcome = promotion('UHJvbW90aW9uOjI=', 'Welcome 10%');

const list = (promotions = [blackFriday, welcome]) => ({
  data: {
    shop: {
      id: 'U2hvcDox',
      promotions,
      program: { id: 'UHJvZ3JhbTox', tiers: [{ id: 'VGllcjoz', name: 'Gold' }] },
    },
  },
});

const rows = () => screen.getAllByTestId('console-promotion').map((r) => r.getAttribute('data-promotion-name'));

const saved = (name: 'promotionCreate' | 'promotionUpdate') => (v: Record<string, unknown>) => ({
  data: { [name]: { promotion: { ...welcome, ...(v.input as object), id: 'UHJvbW90aW9uOjk=' }, errors: [] } },
});

describe('PromotionsPage', { timeout: 20_000 }, () => {
  it('lists the promotions with kind, value, rules and figures', async () => {
    renderConsolePage(<PromotionsPage />, { mocks: { ConsolePromotions: list() } });
    await waitFor(() => expect(rows()).toEqual(['Black Friday', 'Welcome 10%']));
    const row = screen.getAllByTestId('console-promotion')[0];
    expect(within(row).getByText('Cheapest item free')).toBeInTheDocument();
    expect(within(row).getByText('Tiers: Gold')).toBeInTheDocument();
    expect(within(row).getByText('Exclusive')).toBeInTheDocument();
    expect(within(row).getByTestId('promotion-uses')).toHaveTextContent('12');
    expect(row).toHaveTextContent('$84.50');
    expect(row).toHaveTextContent('$1,234.00');
    expect(within(screen.getAllByTestId('console-promotion')[1]).getByText('10%')).toBeInTheDocument();
  });

  it('asks for archived promotions only when shown', async () => {
    const { calls } = renderConsolePage(<PromotionsPage />, { mocks: { ConsolePromotions: list() } });
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(calls.find((c) => c.name === 'ConsolePromotions')?.variables).toEqual({ slug: 'demo-coffee', includeArchived: false });
    await userEvent.click(screen.getByRole('switch', { name: 'Show archived promotions' }));
    await waitFor(() =>
      expect(calls.filter((c) => c.name === 'ConsolePromotions').at(-1)?.variables).toEqual({ slug: 'demo-coffee', includeArchived: true }),
    );
  });

  it('creates a promotion with every input field', async () => {
    const { calls } = renderConsolePage(<PromotionsPage />, {
      mocks: { ConsolePromotions: list(), ConsolePromotionCreate: saved('promotionCreate') },
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'New promotion' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByRole('textbox', { name: /^Name/ }), 'Morning coffee');
    await userEvent.type(within(dialog).getByLabelText(/^Percent off/), '15');
    await userEvent.type(within(dialog).getByRole('combobox', { name: 'Categories' }), 'coffee{enter}');
    await userEvent.click(within(dialog).getByRole('checkbox', { name: 'Mon' }));
    await userEvent.click(within(dialog).getByRole('checkbox', { name: 'Tue' }));
    await userEvent.type(within(dialog).getByLabelText('From hour'), '7');
    await userEvent.type(within(dialog).getByLabelText('Until hour'), '11');
    await userEvent.type(within(dialog).getByLabelText('Usage limit per member'), '1');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(calls.some((c) => c.name === 'ConsolePromotionCreate')).toBe(true));
    expect(calls.find((c) => c.name === 'ConsolePromotionCreate')?.variables).toEqual({
      shopId: 'U2hvcDox',
      input: {
        name: 'Morning coffee',
        description: '',
        kind: 'PERCENTAGE',
        value: '15',
        buyQuantity: 0,
        getQuantity: 0,
        freeProductId: null,
        productIds: [],
        categorySlugs: ['coffee'],
        tierIds: [],
        paymentTypes: [],
        minimumAmount: '0',
        startsAt: null,
        endsAt: null,
        weekdays: [1, 2],
        hourFrom: 7,
        hourTo: 11,
        requiresCoupon: false,
        priority: 10,
        stacking: 'STACKABLE',
        usageLimit: null,
        usageLimitPerMember: 1,
        active: true,
      },
    });
    expect(await screen.findByText('Morning coffee saved')).toBeInTheDocument();
  });

  it('edits a promotion, sending back every setting it had', async () => {
    const { calls } = renderConsolePage(<PromotionsPage />, {
      mocks: { ConsolePromotions: list(), ConsolePromotionUpdate: saved('promotionUpdate') },
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'Edit Black Friday' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByRole('checkbox', { name: 'Fri' })).toBeChecked();
    const priority = within(dialog).getByLabelText('Priority');
    await userEvent.clear(priority);
    await userEvent.type(priority, '30');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((c) => c.name === 'ConsolePromotionUpdate')).toBe(true));
    expect(calls.find((c) => c.name === 'ConsolePromotionUpdate')?.variables).toMatchObject({
      promotionId: 'UHJvbW90aW9uOjE=',
      input: {
        name: 'Black Friday',
        kind: 'CHEAPEST_FREE',
        buyQuantity: 2,
        tierIds: ['VGllcjoz'],
        weekdays: [5],
        hourFrom: 8,
        hourTo: 20,
        priority: 30,
        stacking: 'EXCLUSIVE',
        requiresCoupon: true,
        active: true,
      },
    });
  });

  it('shows a refused save under its field', async () => {
    renderConsolePage(<PromotionsPage />, {
      mocks: {
        ConsolePromotions: list(),
        ConsolePromotionCreate: {
          data: { promotionCreate: { promotion: null, errors: [{ field: 'value', code: 'INVALID_INPUT', message: 'At most 100.' }] } },
        },
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'New promotion' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByRole('textbox', { name: /^Name/ }), 'Too much');
    await userEvent.type(within(dialog).getByLabelText(/^Percent off/), '100');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await within(dialog).findByText('At most 100.')).toBeInTheDocument();
  });

  it('archives a promotion: an update with active = false and nothing else changed', async () => {
    const { calls } = renderConsolePage(<PromotionsPage />, {
      mocks: { ConsolePromotions: list(), ConsolePromotionUpdate: saved('promotionUpdate') },
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'Archive Welcome 10%' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Archive' }));
    await waitFor(() => expect(calls.some((c) => c.name === 'ConsolePromotionUpdate')).toBe(true));
    expect(calls.find((c) => c.name === 'ConsolePromotionUpdate')?.variables).toMatchObject({
      promotionId: 'UHJvbW90aW9uOjI=',
      input: { name: 'Welcome 10%', kind: 'PERCENTAGE', value: '10.00', requiresCoupon: true, active: false },
    });
    expect(await screen.findByText('Welcome 10% archived')).toBeInTheDocument();
  });

  it('refuses cashiers', () => {
    renderConsolePage(<PromotionsPage />, { shop: testShop({ role: 'CASHIER', canEdit: false }) });
    expect(screen.getByTestId('console-forbidden')).toBeInTheDocument();
  });

  it('formats values per kind', () => {
    const p = { buyQuantity: 2, getQuantity: 1 };
    expect(promotionValue({ ...p, kind: 'PERCENTAGE', value: '12.50' }, 'USD')).toBe('12.5%');
    expect(promotionValue({ ...p, kind: 'FIXED_AMOUNT', value: '3.00' }, 'USD')).toBe('$3.00');
    expect(promotionValue({ ...p, kind: 'BUY_X_GET_Y', value: '100' }, 'USD')).toBe('2 + 1 · 100%');
    expect(promotionValue({ ...p, kind: 'CHEAPEST_FREE', value: '0' }, 'USD')).toBe('2+');
  });
});

import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { RulesPage, categoryOptions } from './RulesPage';
import { renderConsolePage } from './testing';

const rules = {
  data: {
    shop: {
      id: 'U2hvcDox',
      segments: [
        { id: 'U2VnbWVudDox', name: 'Wholesale', kind: 'DYNAMIC' },
        { id: 'U2VnbWVudDoy', name: 'Friends', kind: 'STATIC' },
      ],
      program: {
        id: 'UHJvZ3JhbTox',
        tiers: [{ id: 'VGllcjox', name: 'Bronze' }],
        earningRules: [
          {
            id: 'RWFybmluZ1J1bGU6MQ==',
            name: 'Double books',
            kind: 'MULTIPLIER',
            multiplier: '2.00',
            bonusPoints: null,
            startsAt: null,
            endsAt: null,
            daysOfWeek: [],
            startTime: null,
            endTime: null,
            categorySlugs: ['books'],
            tiers: [],
            segmentIds: ['U2VnbWVudDox'],
            minOrderAmount: null,
            priority: 0,
            stackable: true,
            active: true,
            createdAt: '2026-01-01T10:00:00Z',
          },
        ],
      },
    },
  },
};

const categories = {
  data: {
    categories: [
      { name: 'Books', slug: 'books' },
      { name: 'Home comfort', slug: 'home_confort' },
      { name: 'Garden tools', slug: 'garden_tools' },
    ],
  },
};

describe('RulesPage', () => {
  it('offers the marketplace categories by name and sends their slugs', async () => {
    const { calls } = renderConsolePage(<RulesPage />, {
      mocks: {
        ConsoleRules: rules,
        ConsoleCategories: categories,
        ConsoleRuleCreate: { data: { earningRuleCreate: { rule: { id: 'RWFybmluZ1J1bGU6Mg==', name: 'Cosy' }, loyaltyErrors: [] } } },
      },
    });
    // The list names the rule's categories by name, not slug.
    expect(await screen.findByText('Categories: Books · Segments: Wholesale')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'New rule' }));
    await userEvent.type(await screen.findByRole('textbox', { name: /^Name\s*\*?$/ }), 'Cosy');
    const picker = screen.getByRole('combobox', { name: 'Categories' });
    await userEvent.click(picker);
    // jsdom never finishes the dropdown's transition, so its options count as hidden.
    const option = (name: string) => screen.queryByRole('option', { name, hidden: true });
    await waitFor(() => expect(option('Garden tools')).toBeInTheDocument());
    // The search matches slugs too.
    await userEvent.type(picker, 'confort');
    expect(option('Garden tools')).toBeNull();
    await userEvent.click(option('Home comfort')!);
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleRuleCreate')?.variables).toMatchObject({
        input: { name: 'Cosy', categorySlugs: ['home_confort'] },
      }),
    );
  });

  it('targets the shop\'s segments by name and sends their ids', async () => {
    const { calls } = renderConsolePage(<RulesPage />, {
      mocks: {
        ConsoleRules: rules,
        ConsoleCategories: categories,
        ConsoleRuleUpdate: { data: { earningRuleUpdate: { rule: { id: 'RWFybmluZ1J1bGU6MQ==', name: 'Double books' }, loyaltyErrors: [] } } },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Edit Double books' }));
    const picker = await screen.findByRole('combobox', { name: 'Segments' });
    await userEvent.click(picker);
    const option = (name: string) => screen.queryByRole('option', { name, hidden: true });
    await waitFor(() => expect(option('Friends')).toBeInTheDocument());
    await userEvent.click(option('Friends')!);
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleRuleUpdate')?.variables).toMatchObject({
        input: { segmentIds: ['U2VnbWVudDox', 'U2VnbWVudDoy'] },
      }),
    );
  });

  it('keeps a slug the category list lacks as an option', () => {
    expect(categoryOptions([{ name: 'Books', slug: 'books' }], ['books', 'gone'])).toEqual([
      { value: 'books', label: 'Books' },
      { value: 'gone', label: 'gone' },
    ]);
  });
});

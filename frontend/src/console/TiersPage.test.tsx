import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { TiersPage, moveTier, type TierDraft } from './TiersPage';
import { renderConsolePage } from './testing';

const tier = (id: string, name: string, position: number, threshold: string, color: string) => ({
  id,
  name,
  position,
  threshold,
  multiplier: '1.00',
  discountPercent: '0.00',
  benefits: [],
  color,
  nameTranslations: [],
});

const tiersResult = {
  data: {
    shop: {
      id: 'U2hvcDox',
      program: {
        id: 'UHJvZ3JhbTox',
        tierBasis: 'SPEND',
        downgradePolicy: 'never',
        tiers: [
          tier('VGllcjox', 'Bronze', 0, '0.00', '#cd7f32'),
          tier('VGllcjoy', 'Silver', 1, '100.00', '#c0c0c0'),
          tier('VGllcjoz', 'Gold', 2, '500.00', '#ffd700'),
        ],
      },
    },
  },
};

const preview = {
  data: {
    shop: {
      id: 'U2hvcDox',
      tierPreview: {
        members: 12,
        upgraded: 3,
        movedFromDeleted: 1,
        belowThreshold: 2,
        unchanged: 6,
        downgradePolicy: 'never',
        tiers: [
          { tierId: 'VGllcjox', name: 'Bronze', threshold: '0.00', membersNow: 8, membersAfter: 5 },
          { tierId: 'VGllcjoy', name: 'Silver', threshold: '50.00', membersNow: 3, membersAfter: 6 },
          { tierId: 'VGllcjoz', name: 'Gold', threshold: '500.00', membersNow: 1, membersAfter: 1 },
        ],
      },
    },
  },
};

const rowNames = () => screen.getAllByTestId('tier-row').map((row) => row.getAttribute('data-tier-name'));

describe('TiersPage', () => {
  it('previews how many members a changed threshold moves', async () => {
    const { calls } = renderConsolePage(<TiersPage />, { mocks: { ConsoleTiers: tiersResult, ConsoleTierPreview: preview } });
    const silver = (await screen.findAllByTestId('tier-row')).find((r) => r.getAttribute('data-tier-name') === 'Silver')!;
    const threshold = within(silver).getByLabelText('Threshold');
    await userEvent.clear(threshold);
    await userEvent.type(threshold, '50');
    await userEvent.click(screen.getByRole('button', { name: 'Preview' }));

    const panel = await screen.findByTestId('tier-preview');
    expect(panel).toHaveAttribute('data-moving', '4');
    expect(panel).toHaveTextContent('4 members would move');
    expect(calls.find((c) => c.name === 'ConsoleTierPreview')?.variables.tiers).toEqual([
      { tierId: 'VGllcjox', threshold: '0.00' },
      { tierId: 'VGllcjoy', threshold: '50' },
      { tierId: 'VGllcjoz', threshold: '500.00' },
    ]);
    expect(screen.getByRole('button', { name: 'Save' })).toBeEnabled();
  });

  it('reorders with the move buttons, keeping thresholds in place', async () => {
    renderConsolePage(<TiersPage />, { mocks: { ConsoleTiers: tiersResult } });
    await screen.findAllByTestId('tier-row');
    expect(rowNames()).toEqual(['Bronze', 'Silver', 'Gold']);

    await userEvent.click(screen.getByRole('button', { name: 'Move Gold up' }));
    expect(rowNames()).toEqual(['Bronze', 'Gold', 'Silver']);
    const gold = screen.getAllByTestId('tier-row')[1];
    expect(within(gold).getByLabelText('Threshold')).toHaveValue('100.00');
    // Focus follows the moved tier so the keyboard user can keep going.
    expect(screen.getByRole('button', { name: 'Move Gold up' })).toHaveFocus();

    await userEvent.keyboard('{Enter}');
    expect(rowNames()).toEqual(['Gold', 'Bronze', 'Silver']);
  });

  it('checks the ladder before asking the server', async () => {
    const { calls } = renderConsolePage(<TiersPage />, { mocks: { ConsoleTiers: tiersResult } });
    const rows = await screen.findAllByTestId('tier-row');
    const threshold = within(rows[2]).getByLabelText('Threshold');
    await userEvent.clear(threshold);
    await userEvent.type(threshold, '80');
    await userEvent.click(screen.getByRole('button', { name: 'Preview' }));
    expect(await screen.findByText('Must be higher than the tier below')).toBeInTheDocument();
    expect(calls.some((c) => c.name === 'ConsoleTierPreview')).toBe(false);
  });

  it('saves the whole ladder with one tierLadderSave', async () => {
    const { calls } = renderConsolePage(<TiersPage />, {
      mocks: { ConsoleTiers: tiersResult, ConsoleTierLadderSave: { data: { tierLadderSave: { tiers: [], errors: [] } } } },
    });
    await screen.findAllByTestId('tier-row');
    // A deletion, a new tier, a reorder and a field change, then one save.
    await userEvent.click(screen.getByRole('button', { name: 'Delete Gold' }));
    await userEvent.click(screen.getByRole('button', { name: 'Add tier' }));
    const added = screen.getAllByTestId('tier-row')[2];
    await userEvent.type(within(added).getByRole('textbox', { name: /^Name\s*\*?$/ }), 'Diamond');
    await userEvent.type(within(added).getByLabelText('Threshold'), '800');
    await userEvent.click(screen.getByRole('button', { name: 'Move Diamond up' }));
    const bronze = screen.getAllByTestId('tier-row')[0];
    await userEvent.clear(within(bronze).getByLabelText('Discount'));
    await userEvent.type(within(bronze).getByLabelText('Discount'), '5');
    expect(rowNames()).toEqual(['Bronze', 'Diamond', 'Silver']);

    await userEvent.click(screen.getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(screen.queryByText('Unsaved changes')).not.toBeInTheDocument());
    const mutations = calls.filter((c) => c.kind === 'mutation');
    expect(mutations.map((c) => c.name)).toEqual(['ConsoleTierLadderSave']);
    expect(mutations[0].variables).toEqual({
      shopId: 'U2hvcDox',
      tiers: [
        { id: 'VGllcjox', discountPercent: '5', threshold: '0.00' },
        { name: 'Diamond', multiplier: '1', discountPercent: '0', color: '#868e96', threshold: '100.00' },
        { id: 'VGllcjoy', threshold: '800' },
      ],
    });
  });

  it('shows a refused save under the rows and keeps the draft', async () => {
    const refused = {
      data: {
        tierLadderSave: {
          tiers: [],
          errors: [
            { field: 'tiers[2].threshold', code: 'INVALID_INPUT', message: 'Too high for this shop' },
            { field: 'tiers', code: 'INVALID_INPUT', message: 'Tier Gold is still used by 1 earning rule; change them first.' },
          ],
        },
      },
    };
    const { calls } = renderConsolePage(<TiersPage />, { mocks: { ConsoleTiers: tiersResult, ConsoleTierLadderSave: refused } });
    const gold = (await screen.findAllByTestId('tier-row'))[2];
    await userEvent.clear(within(gold).getByLabelText('Threshold'));
    await userEvent.type(within(gold).getByLabelText('Threshold'), '600');

    await userEvent.click(screen.getByRole('button', { name: 'Save' }));

    expect(await screen.findByText('Too high for this shop')).toBeInTheDocument();
    expect(within(gold).getByLabelText('Threshold')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('Tier Gold is still used by 1 earning rule; change them first.')).toBeInTheDocument();
    expect(screen.getByText('Unsaved changes')).toBeInTheDocument();
    expect(calls.filter((c) => c.kind === 'mutation').map((c) => c.name)).toEqual(['ConsoleTierLadderSave']);
  });

  it('moveTier leaves the ladder alone at its ends', () => {
    const rows = [{ key: 'a', threshold: 0 }, { key: 'b', threshold: 10 }] as unknown as TierDraft[];
    expect(moveTier(rows, 0, -1)).toBe(rows);
    expect(moveTier(rows, 1, 1)).toBe(rows);
    expect(moveTier(rows, 1, -1).map((r) => [r.key, r.threshold])).toEqual([
      ['b', 0],
      ['a', 10],
    ]);
  });
});

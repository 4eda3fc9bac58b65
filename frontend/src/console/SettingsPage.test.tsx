import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SettingsPage, settingsChanges } from './SettingsPage';
import { renderConsolePage, testShop } from './testing';

const program = {
  id: 'UHJvZ3JhbTox',
  name: 'Coffee Club',
  pointsPerCurrencyUnit: '1.00',
  minimumOrderAmount: '0.00',
  pendingDays: 14,
  expiryMonths: 12,
  tierBasis: 'SPEND',
  tierWindow: 'LIFETIME',
  downgradePolicy: 'never',
  downgradeGraceDays: 0,
  welcomeBonusPoints: 50,
  birthdayBonusPoints: 100,
  pointValue: '0.0100',
  pointsPaymentMaxPercent: '50.00',
  pointsPaymentMinPoints: 100,
  active: true,
};

const changes = {
  data: {
    shop: {
      id: 'U2hvcDox',
      program: {
        id: program.id,
        changes: {
          totalCount: 1,
          pageInfo: { hasNextPage: false },
          edges: [
            {
              node: {
                id: 'UHJvZ3JhbUNoYW5nZTox',
                changedAt: '2026-03-01T10:00:00Z',
                changedBy: 'owner',
                changes: [
                  { field: 'expiryMonths', old: '6', new: '12' },
                  { field: 'earningRule[3].active', old: 'True', new: 'False' },
                  { field: 'earningRule[4]', old: 'Weekend double', new: null },
                  { field: 'tier[7].multiplier', old: null, new: '1.50' },
                ],
              },
            },
          ],
        },
      },
    },
  },
};

describe('SettingsPage', () => {
  it('shows a coded error from the payload as the field message', async () => {
    const { calls } = renderConsolePage(<SettingsPage />, {
      mocks: {
        ConsoleSettings: { data: { shop: { id: 'U2hvcDox', program } } },
        ConsoleProgramChanges: changes,
        ConsoleProgramUpdate: {
          data: {
            programUpdate: {
              program: null,
              loyaltyErrors: [{ field: 'pointsPerCurrencyUnit', code: 'INVALID_INPUT', message: 'Must be between 0 and 1000.' }],
            },
          },
        },
      },
    });
    const rate = await screen.findByLabelText('Points per currency unit');
    await userEvent.clear(rate);
    await userEvent.type(rate, '999');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));

    expect(await screen.findByText('Must be between 0 and 1000.')).toBeInTheDocument();
    expect(rate).toHaveAttribute('aria-invalid', 'true');
    // Only the changed field is sent: each sent field writes an audit record.
    expect(calls.find((c) => c.name === 'ConsoleProgramUpdate')?.variables).toEqual({
      shopId: 'U2hvcDox',
      input: { pointsPerCurrencyUnit: '999' },
    });
  });

  it('edits the points payment share and minimum, sending only those', async () => {
    const { calls } = renderConsolePage(<SettingsPage />, {
      mocks: {
        ConsoleSettings: { data: { shop: { id: 'U2hvcDox', program } } },
        ConsoleProgramChanges: changes,
        ConsoleProgramUpdate: (v) => ({
          data: { programUpdate: { program: { ...program, ...(v.input as object) }, loyaltyErrors: [] } },
        }),
      },
    });
    const share = await screen.findByLabelText('Max share payable with points (%)');
    expect(share).toHaveValue('50.00');
    const minimum = screen.getByLabelText('Fewest points per payment');
    expect(minimum).toHaveValue('100');
    await userEvent.clear(share);
    await userEvent.type(share, '30');
    await userEvent.clear(minimum);
    await userEvent.type(minimum, '200');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Settings saved')).toBeInTheDocument();
    expect(calls.find((c) => c.name === 'ConsoleProgramUpdate')?.variables).toEqual({
      shopId: 'U2hvcDox',
      input: { pointsPaymentMaxPercent: '30', pointsPaymentMinPoints: 200 },
    });
  });

  it('lists the audit of past changes', async () => {
    renderConsolePage(<SettingsPage />, {
      mocks: { ConsoleSettings: { data: { shop: { id: 'U2hvcDox', program } } }, ConsoleProgramChanges: changes },
    });
    const row = await screen.findByTestId('program-change');
    expect(within(row).getByText('owner')).toBeInTheDocument();
    // Each change reads as a sentence, never the raw `Active: True`.
    const lines = within(row).getAllByTestId('program-change-line').map((line) => line.textContent);
    expect(lines[0]).toBe('Expiry (months) changed from 6 to 12');
    expect(lines[1]).toMatch(/ changed from on to off$/);
    expect(lines[2]).toMatch(/ deleted$/);
    expect(lines[3]).toMatch(/ set to 1\.50$/);
    expect(lines.join(' ')).not.toMatch(/True|False/);
  });

  it('refuses cashiers with a clear message', () => {
    renderConsolePage(<SettingsPage />, { shop: testShop({ role: 'CASHIER', canEdit: false }) });
    expect(screen.getByTestId('console-forbidden')).toHaveTextContent('Owners and managers only');
  });

  it('sends an emptied expiry as null (never expire)', () => {
    const initial = {
      pointsPerCurrencyUnit: '1.00',
      minimumOrderAmount: '0.00',
      pointValue: '0.01',
      pendingDays: 14,
      expiryMonths: 12,
      tierBasis: 'SPEND',
      tierWindow: 'LIFETIME',
      downgradePolicy: 'never',
      downgradeGraceDays: 0,
      welcomeBonusPoints: 50,
      birthdayBonusPoints: 0,
      pointsPaymentMaxPercent: '50.00',
      pointsPaymentMinPoints: 100,
      active: true,
    };
    expect(settingsChanges(initial, { ...initial, expiryMonths: '', pointsPerCurrencyUnit: 1, active: false })).toEqual({
      expiryMonths: null,
      active: false,
    });
  });
});

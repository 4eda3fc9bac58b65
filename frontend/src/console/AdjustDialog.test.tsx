import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { AdjustDialog } from './AdjustDialog';
import { renderConsolePage } from './testing';

const account = 'TWVtYmVyQWNjb3VudDox';

function renderDialog(mocks = {}) {
  const onDone = vi.fn();
  const onClose = vi.fn();
  const result = renderConsolePage(
    <AdjustDialog opened accountId={account} memberName="Dana" available={120} onClose={onClose} onDone={onDone} />,
    { mocks },
  );
  return { ...result, onDone, onClose };
}

describe('AdjustDialog', () => {
  it('requires a reason before calling the API', async () => {
    const { calls } = renderDialog();
    await userEvent.type(await screen.findByLabelText(/^Points/), '50');
    await userEvent.click(screen.getByRole('button', { name: 'Adjust' }));
    expect(await screen.findByText('A reason is required')).toBeInTheDocument();
    expect(screen.getByLabelText(/^Reason/)).toHaveAttribute('aria-invalid', 'true');
    expect(calls.some((c) => c.name === 'ConsolePointsAdjust')).toBe(false);
  });

  it('shows coded errors as field messages and retries with the same key', async () => {
    let answer = 0;
    const { calls, onDone } = renderDialog({
      ConsolePointsAdjust: () => {
        answer += 1;
        return answer === 1
          ? { networkError: true }
          : {
              data: {
                pointsAdjust: {
                  replayed: false,
                  entry: null,
                  account: null,
                  errors: [{ field: 'points', code: 'INSUFFICIENT_POINTS', message: 'Only 120 points are available.' }],
                },
              },
            };
      },
    });
    await userEvent.type(await screen.findByLabelText(/^Points/), '-100');
    await userEvent.type(screen.getByLabelText(/^Reason/), 'Duplicate order 17');
    await userEvent.click(screen.getByRole('button', { name: 'Adjust' }));
    await screen.findByRole('alert');
    await userEvent.click(screen.getByRole('button', { name: 'Adjust' }));
    expect(await screen.findByText('Only 120 points are available.')).toBeInTheDocument();

    const sent = calls.filter((c) => c.name === 'ConsolePointsAdjust').map((c) => c.variables);
    expect(sent).toHaveLength(2);
    expect(sent[0].input).toEqual({ accountId: account, points: -100, reason: 'Duplicate order 17' });
    expect(sent[1].idempotencyKey).toBe(sent[0].idempotencyKey);
    expect(onDone).not.toHaveBeenCalled();
  });

  it('adjusts and reports success', async () => {
    const { calls, onDone } = renderDialog({
      ConsolePointsAdjust: {
        data: {
          pointsAdjust: {
            replayed: false,
            entry: { id: 'UG9pbnRzRW50cnk6MQ==', kind: 'ADJUST', points: 30, reason: 'Goodwill', availableAfter: 150 },
            account: { id: account, pointsAvailable: 150, pointsPending: 0, lastActivityAt: '2026-03-01T10:00:00Z' },
            errors: [],
          },
        },
      },
    });
    await userEvent.type(await screen.findByLabelText(/^Points/), '30');
    await userEvent.type(screen.getByLabelText(/^Reason/), 'Goodwill');
    await userEvent.click(screen.getByRole('button', { name: 'Adjust' }));
    await vi.waitFor(() => expect(onDone).toHaveBeenCalled());
    const key = calls.find((c) => c.name === 'ConsolePointsAdjust')?.variables.idempotencyKey;
    expect(typeof key).toBe('string');
    expect((key as string).length).toBeGreaterThan(8);
  });
});

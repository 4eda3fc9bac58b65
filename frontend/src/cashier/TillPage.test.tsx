import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import TillPage from './TillPage';
import { tillRedemptionFixture } from '../test/fixtures';
import { fakeSession, renderWithProviders, type Mocks } from '../test/utils';

const staff = fakeSession({
  isMember: false,
  staffShops: [
    {
      role: 'CASHIER',
      shop: { id: 'U2hvcDox', name: 'Demo Coffee', slug: 'demo-coffee', currency: 'USD', timezone: 'Europe/Berlin' },
    },
  ],
});

function renderTill(mocks: Mocks) {
  return renderWithProviders(<TillPage />, { mocks, session: staff, route: '/till/demo-coffee', path: '/till/:shopSlug' });
}

function refusal(code: string) {
  return { data: { redemptionValidate: { redemption: null, errors: [{ field: 'code', code, message: code }] } } };
}

async function check(code: string) {
  await userEvent.type(screen.getByLabelText('Code'), code);
  await userEvent.click(screen.getByRole('button', { name: 'Check' }));
  return screen.findByTestId('till-result');
}

describe('TillPage', () => {
  it('checks a valid code, shows what it is for, then consumes it', async () => {
    const { calls } = renderTill({
      RedemptionValidate: { data: { redemptionValidate: { redemption: tillRedemptionFixture(), errors: [] } } },
      RedemptionConsume: {
        data: { redemptionConsume: { redemption: tillRedemptionFixture({ status: 'USED', usedAt: '2026-11-21T10:00:00Z' }), errors: [] } },
      },
    });
    const result = await check('7q2m zk4d xr92o');
    expect(result).toHaveAttribute('data-state', 'valid');
    expect(result).toHaveTextContent('Free espresso');
    expect(result).toHaveTextContent('For Ada');
    // The code goes to the server as typed: it normalises.
    expect(calls.find((c) => c.name === 'RedemptionValidate')?.variables).toEqual({
      input: { shopId: 'U2hvcDox', code: '7q2m zk4d xr92o', orderExternalId: '' },
    });

    await userEvent.click(screen.getByRole('button', { name: 'Consume' }));
    expect(await screen.findByText('Code accepted')).toBeInTheDocument();
    expect(screen.getByTestId('till-result')).toHaveAttribute('data-state', 'consumed');
  });

  it('says when a code was already used', async () => {
    renderTill({ RedemptionValidate: refusal('CODE_ALREADY_USED') });
    const result = await check('7Q2M-ZK4D-XR920');
    expect(result).toHaveAttribute('data-state', 'used');
    expect(result).toHaveTextContent('Already used');
    expect(screen.getByRole('button', { name: 'Consume' })).toBeDisabled();
  });

  it.each([
    ['CODE_INVALID', 'invalid', 'Not a valid code'],
    ['CODE_EXPIRED', 'expired', 'Expired'],
    ['CODE_CANCELLED', 'cancelled', 'Cancelled'],
  ])('maps %s to the %s state', async (code, state, title) => {
    renderTill({ RedemptionValidate: refusal(code) });
    const result = await check('NOPE-NOPE-NOPE1');
    expect(result).toHaveAttribute('data-state', state);
    expect(result).toHaveTextContent(title);
  });

  it('shows rate limiting as an error with its message', async () => {
    renderTill({ RedemptionValidate: refusal('RATE_LIMITED') });
    const result = await check('AAAA');
    expect(result).toHaveAttribute('data-state', 'error');
    expect(result).toHaveTextContent('Too many attempts');
  });

  it('asks for a code before calling the server', async () => {
    const { calls } = renderTill({});
    await userEvent.click(screen.getByRole('button', { name: 'Check' }));
    expect(await screen.findByText('Enter a code')).toBeInTheDocument();
    expect(calls.some((c) => c.name === 'RedemptionValidate')).toBe(false);
  });

  it('refuses a shop the user does not work for', () => {
    renderWithProviders(<TillPage />, { session: staff, route: '/till/other', path: '/till/:shopSlug' });
    expect(screen.getByText('You do not work at this shop.')).toBeInTheDocument();
  });
});

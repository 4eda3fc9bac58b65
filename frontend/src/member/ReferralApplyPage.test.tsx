import { useState } from 'react';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import App from '../App';
import { ReferralApplyPage } from './ReferralApplyPage';
import { SessionContext } from '../lib/session';
import { fakeSession, renderWithProviders, type Mocks } from '../test/utils';

vi.mock('../lib/client', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../lib/client')>()),
  ensureCsrf: () => Promise.resolve(),
}));

const shop = {
  id: 'U2hvcDox',
  name: 'Demo Coffee',
  slug: 'demo-coffee',
  currency: 'USD',
  referralSettings: { enabled: true, refereeBonusPoints: 100, minOrderAmount: '0' },
};
const found: Mocks = { ReferralCodeLookup: { data: { referralCode: { code: 'FV5D8VFR', shop } } } };

function renderPage(mocks: Mocks, route = '/r/fv5d-8vfr') {
  return renderWithProviders(<ReferralApplyPage />, { route, path: '/r/:code', mocks });
}

describe('ReferralApplyPage', () => {
  it('names the shop of the code and applies it there', async () => {
    const { calls } = renderPage({
      ...found,
      ReferralApply: {
        data: { referralApply: { referral: { status: 'OPEN', shopName: 'Demo Coffee', refereePoints: 0 }, errors: [] } },
      },
    });
    expect(await screen.findByTestId('referral-shop')).toHaveTextContent('A friend invited you to Demo Coffee.');
    expect(screen.getByText(/you get 100 pts/)).toBeInTheDocument();
    expect(calls.find((call) => call.name === 'ReferralCodeLookup')?.variables).toEqual({ code: 'fv5d-8vfr' });
    await userEvent.click(screen.getByRole('button', { name: 'Apply code' }));
    expect(await screen.findByTestId('referral-applied')).toHaveTextContent('Code applied at Demo Coffee.');
    expect(calls.find((call) => call.name === 'ReferralApply')?.variables).toEqual({ shopId: shop.id, code: 'FV5D8VFR' });
  });

  it('explains a refusal by its code', async () => {
    renderPage({
      ...found,
      ReferralApply: {
        data: { referralApply: { referral: null, errors: [{ field: 'code', code: 'OWN_CODE', message: 'You cannot apply your own code.' }] } },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Apply code' }));
    const alert = await screen.findByTestId('referral-error');
    expect(alert).toHaveAttribute('data-code', 'OWN_CODE');
    expect(alert).toHaveTextContent('This is your own code. Share it with friends instead.');
    expect(screen.queryByTestId('referral-applied')).not.toBeInTheDocument();
  });

  it('says so when the code is unknown', async () => {
    renderPage({ ReferralCodeLookup: { data: { referralCode: null } } }, '/r/NOPE');
    expect(await screen.findByTestId('referral-unknown')).toHaveTextContent('The code NOPE is unknown');
    expect(screen.queryByRole('button', { name: 'Apply code' })).not.toBeInTheDocument();
  });

  it('sends an anonymous visitor to log in and back to the link', async () => {
    const member = fakeSession();
    function Harness() {
      const [session, setSession] = useState(() => fakeSession({ viewer: null, isMember: false, refresh: () => setSession(member) }));
      return (
        <SessionContext.Provider value={session}>
          <App />
        </SessionContext.Provider>
      );
    }
    renderWithProviders(<Harness />, {
      route: '/r/FV5D8VFR',
      mocks: { ...found, Login: { data: { login: { username: 'demo', isStaffOfShops: false, errors: [] } } } },
    });
    await userEvent.type(await screen.findByLabelText('Username'), 'demo');
    await userEvent.type(screen.getByLabelText('Password'), 'demo-member-pass');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByTestId('referral-shop')).toHaveTextContent('Demo Coffee');
  });
});

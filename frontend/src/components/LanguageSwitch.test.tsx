import { act, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { LanguageSwitch } from './LanguageSwitch';
import { AccountCard } from '../member/AccountCard';
import { accountFixture } from '../test/fixtures';
import { renderWithProviders } from '../test/utils';
import { setLanguage } from '../i18n';

afterEach(async () => {
  await act(() => setLanguage('en'));
});

describe('LanguageSwitch', () => {
  it('switches to Persian: right-to-left, Persian digits and texts, remembered', async () => {
    renderWithProviders(
      <>
        <LanguageSwitch />
        <AccountCard account={accountFixture()} />
      </>,
    );
    expect(document.documentElement.dir).toBe('ltr');
    expect(screen.getByTestId('points-available')).toHaveTextContent('1,250');

    await userEvent.click(screen.getByTestId('lang-switch'));

    expect(document.documentElement.dir).toBe('rtl');
    expect(document.documentElement.lang).toBe('fa');
    expect(localStorage.getItem('patron.language')).toBe('fa');
    expect(screen.getByTestId('points-available')).toHaveTextContent('۱٬۲۵۰');
    expect(screen.getByTestId('points-available')).toHaveAttribute('data-value', '1250');
    expect(screen.getByTestId('tier-badge')).toHaveTextContent('نقره‌ای');
    expect(screen.getByTestId('tier-progress')).toHaveTextContent('۷۵۰ امتیاز تا طلایی');
    expect(screen.getByTestId('lang-switch')).toHaveTextContent('English');

    await userEvent.click(screen.getByTestId('lang-switch'));
    expect(document.documentElement.dir).toBe('ltr');
  });
});

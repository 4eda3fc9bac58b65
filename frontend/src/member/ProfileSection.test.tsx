import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderWithProviders } from '../test/utils';
import { ProfileSection } from './ProfileSection';

const profile = { birthDate: '1990-12-10', calendar: 'GREGORIAN', consentEmail: true, consentSms: false, consentPush: false };

describe('ProfileSection', { timeout: 20_000 }, () => {
  it("saves the member's birth date, calendar and consents", async () => {
    const { calls } = renderWithProviders(<ProfileSection />, {
      mocks: {
        MemberProfile: { data: { viewer: { profile } } },
        MemberProfileUpdate: (v) => ({
          data: { memberProfileUpdate: { profile: { ...profile, ...(v.input as object) }, errors: [] } },
        }),
      },
    });
    const sms = await screen.findByRole('switch', { name: 'Marketing SMS' });
    expect(sms).not.toBeChecked();
    expect(screen.getByRole('switch', { name: 'Marketing e-mails' })).toBeChecked();
    await userEvent.click(sms);
    await userEvent.click(screen.getByText('Persian (Jalali)'));
    await userEvent.click(screen.getByRole('button', { name: 'Save profile' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'MemberProfileUpdate')?.variables).toEqual({
        input: { birthDate: '1990-12-10', calendar: 'JALALI', consentEmail: true, consentSms: true, consentPush: false },
      }),
    );
  });

  it('shows a refused birth date under the field', async () => {
    renderWithProviders(<ProfileSection />, {
      mocks: {
        MemberProfile: { data: { viewer: { profile } } },
        MemberProfileUpdate: {
          data: { memberProfileUpdate: { profile: null, errors: [{ field: 'birthDate', code: 'INVALID_BIRTH_DATE', message: 'Not before 1900.' }] } },
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Save profile' }));
    expect(await screen.findByText('Not before 1900.')).toBeInTheDocument();
  });
});

import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { LoginPage } from './LoginPage';
import { fakeSession, renderWithProviders } from '../test/utils';

vi.mock('../lib/client', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../lib/client')>()),
  ensureCsrf: () => Promise.resolve(),
}));

const anonymous = fakeSession({ viewer: null, isMember: false });

describe('LoginPage', () => {
  it('shows the refusal from the API', async () => {
    const refresh = vi.fn();
    const { calls } = renderWithProviders(<LoginPage />, {
      session: { ...anonymous, refresh },
      mocks: {
        Login: {
          data: {
            login: {
              username: null,
              isStaffOfShops: false,
              errors: [{ field: 'password', code: 'INVALID_CREDENTIALS', message: 'Invalid username or password.' }],
            },
          },
        },
      },
    });
    await userEvent.type(screen.getByLabelText('Username'), 'demo');
    await userEvent.type(screen.getByLabelText('Password'), 'wrong');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByTestId('login-error')).toHaveTextContent('Wrong username or password.');
    expect(calls.find((call) => call.name === 'Login')?.variables).toEqual({
      input: { username: 'demo', password: 'wrong' },
    });
    expect(refresh).not.toHaveBeenCalled();
  });

  it('re-reads the session after a successful login', async () => {
    const refresh = vi.fn();
    renderWithProviders(<LoginPage />, {
      session: { ...anonymous, refresh },
      mocks: { Login: { data: { login: { username: 'demo', isStaffOfShops: false, errors: [] } } } },
    });
    await userEvent.type(screen.getByLabelText('Username'), 'demo');
    await userEvent.type(screen.getByLabelText('Password'), 'demo-member-pass');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await vi.waitFor(() => expect(refresh).toHaveBeenCalled());
  });

  it('asks for both fields before calling the API', async () => {
    const { calls } = renderWithProviders(<LoginPage />, { session: anonymous });
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findAllByText('Required')).toHaveLength(2);
    expect(calls.some((call) => call.name === 'Login')).toBe(false);
  });
});

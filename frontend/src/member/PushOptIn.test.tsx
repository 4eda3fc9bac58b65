import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderWithProviders } from '../test/utils';
import { PushOptIn } from './PushOptIn';

const KEY = 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U';
const ENDPOINT = 'https://push.example.com/send/abc';

const subscription = {
  endpoint: ENDPOINT,
  toJSON: () => ({ endpoint: ENDPOINT, keys: { p256dh: 'BPub-key_1', auth: 'c2VjcmV0' } }),
};

/** Gives jsdom a service worker container, the Push API and notifications answering `permission`. */
function fakeBrowser(permission: NotificationPermission = 'granted') {
  const subscribe = vi.fn(async () => subscription);
  const register = vi.fn(async () => ({ pushManager: { subscribe, getSubscription: async () => null } }));
  Object.defineProperty(navigator, 'serviceWorker', { configurable: true, value: { register } });
  vi.stubGlobal('PushManager', function PushManager() {});
  const requestPermission = vi.fn(async () => permission);
  vi.stubGlobal('Notification', Object.assign(function Notification() {}, { requestPermission, permission: 'default' }));
  return { register, subscribe, requestPermission };
}

const added = { data: { pushSubscriptionAdd: { count: 1, errors: [] } } };

afterEach(() => {
  vi.unstubAllGlobals();
  Reflect.deleteProperty(navigator, 'serviceWorker');
});

describe('PushOptIn', { timeout: 20_000 }, () => {
  it('shows nothing when the server has push off', async () => {
    fakeBrowser();
    const { calls, container } = renderWithProviders(<PushOptIn />, { mocks: { MemberWebPushKey: { data: { webPushPublicKey: null } } } });
    await waitFor(() => expect(calls.some((c) => c.name === 'MemberWebPushKey')).toBe(true));
    expect(screen.queryByTestId('push-opt-in')).toBeNull();
    expect(container.querySelector('button')).toBeNull();
  });

  it("shows nothing, and asks nothing, in a browser without push", () => {
    const { calls } = renderWithProviders(<PushOptIn />, { mocks: { MemberWebPushKey: { data: { webPushPublicKey: KEY } } } });
    expect(screen.queryByTestId('push-opt-in')).toBeNull();
    expect(calls).toEqual([]);
  });

  it('asks the permission, subscribes this browser and keeps its endpoint and keys', async () => {
    const { register, subscribe, requestPermission } = fakeBrowser();
    const { calls } = renderWithProviders(<PushOptIn />, {
      mocks: { MemberWebPushKey: { data: { webPushPublicKey: KEY } }, MemberPushSubscriptionAdd: added },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Turn on notifications on this browser' }));
    expect(await screen.findByText('Notifications are on for this browser.')).toBeInTheDocument();
    expect(requestPermission).toHaveBeenCalledTimes(1);
    expect(register).toHaveBeenCalledWith('/sw.js');
    expect(subscribe).toHaveBeenCalledWith(expect.objectContaining({ userVisibleOnly: true }));
    expect(calls.find((c) => c.name === 'MemberPushSubscriptionAdd')?.variables).toEqual({
      endpoint: ENDPOINT,
      p256dh: 'BPub-key_1',
      auth: 'c2VjcmV0',
    });
  });

  it('says so when notifications are blocked, and subscribes nothing', async () => {
    const { subscribe } = fakeBrowser('denied');
    const { calls } = renderWithProviders(<PushOptIn />, {
      mocks: { MemberWebPushKey: { data: { webPushPublicKey: KEY } }, MemberPushSubscriptionAdd: added },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Turn on notifications on this browser' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Notifications are blocked for this site.');
    expect(subscribe).not.toHaveBeenCalled();
    expect(calls.some((c) => c.name === 'MemberPushSubscriptionAdd')).toBe(false);
  });

  it("shows the server's coded refusal", async () => {
    fakeBrowser();
    renderWithProviders(<PushOptIn />, {
      mocks: {
        MemberWebPushKey: { data: { webPushPublicKey: KEY } },
        MemberPushSubscriptionAdd: {
          data: { pushSubscriptionAdd: { count: 0, errors: [{ field: 'endpoint', code: 'INVALID_INPUT', message: 'The endpoint must be an https URL.' }] } },
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Turn on notifications on this browser' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The endpoint must be an https URL.');
    expect(screen.getByRole('button', { name: 'Turn on notifications on this browser' })).toBeEnabled();
  });
});

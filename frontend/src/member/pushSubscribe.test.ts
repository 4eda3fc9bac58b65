import { PushSubscribeError, subscribeToPush, urlBase64ToUint8Array } from './pushSubscribe';

// A P-256 public key as base64url, without padding (65 bytes, first 0x04), like a VAPID key.
const VAPID = 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U';

/** A fake registration whose pushManager answers `subscription` and records the options. */
function fakeRegistration(subscription: { endpoint: string; toJSON: () => PushSubscriptionJSON }) {
  const subscribe = vi.fn(async (_options: PushSubscriptionOptionsInit) => subscription as unknown as PushSubscription);
  const registration = { pushManager: { subscribe, getSubscription: vi.fn(async () => null) } as unknown as PushManager };
  return { registration, subscribe };
}

const subscription = {
  endpoint: 'https://push.example.com/send/abc',
  toJSON: () => ({ endpoint: 'https://push.example.com/send/abc', keys: { p256dh: 'BPub-key_1', auth: 'c2VjcmV0' } }),
};

describe('urlBase64ToUint8Array', () => {
  it('decodes base64url with and without padding', () => {
    expect(Array.from(urlBase64ToUint8Array('AQID'))).toEqual([1, 2, 3]);
    expect(Array.from(urlBase64ToUint8Array('_-8'))).toEqual([255, 239]);
    expect(Array.from(urlBase64ToUint8Array('_-8='))).toEqual([255, 239]);
    expect(Array.from(urlBase64ToUint8Array('AA'))).toEqual([0]);
    expect(urlBase64ToUint8Array('')).toHaveLength(0);
  });

  it('reads a VAPID public key into its 65 bytes', () => {
    const bytes = urlBase64ToUint8Array(VAPID);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes).toHaveLength(65);
    expect(bytes[0]).toBe(4);
  });
});

describe('subscribeToPush', () => {
  it('registers /sw.js, subscribes with the server key and answers the endpoint and keys', async () => {
    const { registration, subscribe } = fakeRegistration(subscription);
    const register = vi.fn(async () => registration);
    const keys = await subscribeToPush(VAPID, register);
    expect(register).toHaveBeenCalledWith('/sw.js');
    expect(subscribe).toHaveBeenCalledTimes(1);
    const options = subscribe.mock.calls[0][0];
    expect(options.userVisibleOnly).toBe(true);
    expect(Array.from(options.applicationServerKey as Uint8Array)).toEqual(Array.from(urlBase64ToUint8Array(VAPID)));
    expect(keys).toEqual({ endpoint: 'https://push.example.com/send/abc', p256dh: 'BPub-key_1', auth: 'c2VjcmV0' });
  });

  it('replaces a subscription made with another server key', async () => {
    const old = { unsubscribe: vi.fn(async () => true) };
    const subscribe = vi
      .fn()
      .mockRejectedValueOnce(new DOMException('key differs', 'InvalidStateError'))
      .mockResolvedValueOnce(subscription);
    const registration = { pushManager: { subscribe, getSubscription: vi.fn(async () => old) } as unknown as PushManager };
    const keys = await subscribeToPush(VAPID, async () => registration);
    expect(old.unsubscribe).toHaveBeenCalledTimes(1);
    expect(subscribe).toHaveBeenCalledTimes(2);
    expect(keys.endpoint).toBe('https://push.example.com/send/abc');
  });

  it('passes on a refusal and rejects a subscription without keys', async () => {
    const refused = { pushManager: { subscribe: vi.fn().mockRejectedValue(new DOMException('no', 'NotAllowedError')) } as unknown as PushManager };
    await expect(subscribeToPush(VAPID, async () => refused)).rejects.toThrow('no');

    const { registration } = fakeRegistration({ endpoint: 'https://push.example.com/x', toJSON: () => ({ endpoint: 'https://push.example.com/x' }) });
    await expect(subscribeToPush(VAPID, async () => registration)).rejects.toBeInstanceOf(PushSubscribeError);
  });
});

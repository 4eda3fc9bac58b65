/** The service worker that shows web push messages (frontend/public/sw.js, served at the site root). */
export const SERVICE_WORKER_URL = '/sw.js';

/** What the server keeps of a browser's push subscription (`pushSubscriptionAdd`). */
export interface PushSubscriptionKeys {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** Registers a service worker script, like `navigator.serviceWorker.register`. */
export type RegisterServiceWorker = (url: string) => Promise<Pick<ServiceWorkerRegistration, 'pushManager'>>;

/** True when this browser can take web push messages (a service worker and the Push API). */
export function pushSupported(): boolean {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof window !== 'undefined' && 'PushManager' in window;
}

/**
 * The bytes of a base64url string (padding optional), such as the server's VAPID public key,
 * as `pushManager.subscribe` wants its `applicationServerKey`.
 */
export function urlBase64ToUint8Array(key: string): Uint8Array<ArrayBuffer> {
  const padding = '='.repeat((4 - (key.length % 4)) % 4);
  const base64 = (key.trim() + padding).replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** Raised when the browser handed back a subscription without its endpoint or keys. */
export class PushSubscribeError extends Error {}

/**
 * Registers the dashboard's service worker and subscribes this browser to push messages signed
 * with `publicKey` (base64url); answers the endpoint and keys (base64url) the server keeps.
 * The caller asks for the notification permission first.
 */
export async function subscribeToPush(
  publicKey: string,
  register: RegisterServiceWorker = (url) => navigator.serviceWorker.register(url),
): Promise<PushSubscriptionKeys> {
  const registration = await register(SERVICE_WORKER_URL);
  const options = { userVisibleOnly: true, applicationServerKey: urlBase64ToUint8Array(publicKey) };
  let subscription: PushSubscription;
  try {
    subscription = await registration.pushManager.subscribe(options);
  } catch (error) {
    // A subscription made with another server key (the key was changed) must go first.
    const previous = error instanceof DOMException && error.name === 'InvalidStateError' ? await registration.pushManager.getSubscription() : null;
    if (!previous) throw error;
    await previous.unsubscribe();
    subscription = await registration.pushManager.subscribe(options);
  }
  const json = subscription.toJSON();
  const endpoint = json.endpoint ?? subscription.endpoint;
  const p256dh = json.keys?.p256dh;
  const auth = json.keys?.auth;
  if (!endpoint || !p256dh || !auth) throw new PushSubscribeError('The browser returned an incomplete push subscription.');
  return { endpoint, p256dh, auth };
}

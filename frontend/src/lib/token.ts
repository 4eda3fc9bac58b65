/**
 * The storefront member token (docs/integrations.md, "Member tokens"): a short-lived JWT that a
 * marketplace's server signs for its customer. A storefront opens or frames
 * `/embed#token=<jwt>`; the app takes the token out of the fragment (never sent to a server,
 * never in an access log), removes it from the address bar, and keeps it in memory and in this
 * tab's sessionStorage so that a reload of the tab still works. With a token the app runs in
 * "token mode": every request carries `Authorization: Bearer <token>` and there is no login.
 */

/** sessionStorage key of the token (this tab only; gone when the tab closes). */
export const TOKEN_STORAGE_KEY = 'patron.memberToken';

/** The `postMessage` type a framing storefront sends to hand over a fresh token. */
export const TOKEN_MESSAGE_TYPE = 'patron:token';

/** The token in a URL fragment (`#token=<jwt>`, possibly among other `&`-separated fields), or null. */
export function tokenFromFragment(hash: string): string | null {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!fragment) return null;
  const token = new URLSearchParams(fragment).get('token')?.trim();
  return token ? token : null;
}

/** The fragment without its `token` field: `''` when nothing else was in it. */
export function fragmentWithoutToken(hash: string): string {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  const params = new URLSearchParams(fragment);
  params.delete('token');
  const rest = params.toString();
  return rest ? `#${rest}` : '';
}

/** The stored token of this tab, or null (storage may be refused, e.g. in some private modes). */
export function loadStoredToken(storage: Storage | undefined = globalThis.sessionStorage): string | null {
  try {
    return storage?.getItem(TOKEN_STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

/** Keeps `token` for reloads of this tab; storage failures only cost the reload. */
export function storeToken(token: string, storage: Storage | undefined = globalThis.sessionStorage): void {
  try {
    storage?.setItem(TOKEN_STORAGE_KEY, token);
  } catch {
    // Refused storage: the token still works for this page.
  }
}

/** Forgets the stored token of this tab. */
export function clearStoredToken(storage: Storage | undefined = globalThis.sessionStorage): void {
  try {
    storage?.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // Nothing stored, nothing to forget.
  }
}

/** What `captureToken` needs of the browser; the tests pass their own. */
export interface TokenEnvironment {
  location: Pick<Location, 'pathname' | 'search' | 'hash'>;
  history: Pick<History, 'replaceState' | 'state'>;
  storage?: Storage;
}

/**
 * Runs once at start-up, before the router reads the URL: a `#token=` fragment wins (it is
 * stored and removed from the address bar with `history.replaceState`, so it is neither in the
 * history nor copied with the link); else the token stored by an earlier load of this tab.
 * Returns null when the app has no token (the normal, logged-in-by-cookie dashboard).
 */
export function captureToken(
  env: TokenEnvironment = { location: window.location, history: window.history, storage: globalThis.sessionStorage },
): string | null {
  const fromUrl = tokenFromFragment(env.location.hash);
  if (fromUrl) {
    storeToken(fromUrl, env.storage);
    const { pathname, search, hash } = env.location;
    env.history.replaceState(env.history.state, '', `${pathname}${search}${fragmentWithoutToken(hash)}`);
    return fromUrl;
  }
  return loadStoredToken(env.storage);
}

/**
 * The token a `message` event hands over, when it is one: `{type: 'patron:token', token}` sent
 * by the page that frames this one (`window.parent`) or opened it (`window.opener`). Anything
 * else (other windows, other shapes) is ignored, so a third page cannot switch the member.
 */
export function tokenFromMessage(
  event: Pick<MessageEvent, 'data' | 'source'>,
  trusted: readonly (MessageEventSource | Window | null)[],
): string | null {
  if (!event.source || !trusted.includes(event.source)) return null;
  const data = event.data as { type?: unknown; token?: unknown } | null;
  if (!data || typeof data !== 'object' || data.type !== TOKEN_MESSAGE_TYPE) return null;
  return typeof data.token === 'string' && data.token.trim() ? data.token.trim() : null;
}

/** The windows whose `patron:token` messages count: the framing page and the opener, not this one. */
export function trustedTokenSenders(win: Window = window): Window[] {
  const senders: Window[] = [];
  if (win.parent && win.parent !== win) senders.push(win.parent);
  if (win.opener && win.opener !== win) senders.push(win.opener as Window);
  return senders;
}

let startup: { token: string | null } | undefined;

/**
 * The token of this page load: `captureToken()` the first time (the fragment is read and
 * removed once), the same answer afterwards.
 */
export function startupToken(): string | null {
  startup ??= { token: captureToken() };
  return startup.token;
}

import { describe, expect, it, vi } from 'vitest';
import {
  captureToken,
  clearStoredToken,
  fragmentWithoutToken,
  loadStoredToken,
  storeToken,
  TOKEN_STORAGE_KEY,
  tokenFromFragment,
  tokenFromMessage,
} from './token';

const JWT = 'eyJhbGciOiJIUzI1NiIsImtpZCI6InB0a18xIn0.eyJzdWIiOiJkZW1vLW1lbWJlci0xIn0.c2lnbmF0dXJl';

function memoryStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (key) => data.get(key) ?? null,
    key: (index) => [...data.keys()][index] ?? null,
    removeItem: (key) => void data.delete(key),
    setItem: (key, value) => void data.set(key, value),
  };
}

function refusingStorage(): Storage {
  const refuse = () => {
    throw new DOMException('denied', 'SecurityError');
  };
  return { length: 0, clear: refuse, getItem: refuse, key: refuse, removeItem: refuse, setItem: refuse };
}

describe('tokenFromFragment', () => {
  it('reads #token= alone or among other fields', () => {
    expect(tokenFromFragment(`#token=${JWT}`)).toBe(JWT);
    expect(tokenFromFragment(`#lang=fa&token=${JWT}`)).toBe(JWT);
    expect(tokenFromFragment(`token=${JWT}`)).toBe(JWT);
  });

  it('is null without a token', () => {
    expect(tokenFromFragment('')).toBeNull();
    expect(tokenFromFragment('#')).toBeNull();
    expect(tokenFromFragment('#token=')).toBeNull();
    expect(tokenFromFragment('#section-2')).toBeNull();
  });
});

describe('fragmentWithoutToken', () => {
  it('keeps the other fields and drops an emptied fragment', () => {
    expect(fragmentWithoutToken(`#token=${JWT}`)).toBe('');
    expect(fragmentWithoutToken(`#lang=fa&token=${JWT}`)).toBe('#lang=fa');
  });
});

describe('captureToken', () => {
  it('takes the fragment token, stores it and removes it from the address bar', () => {
    const storage = memoryStorage();
    const replaceState = vi.fn();
    const token = captureToken({
      location: { pathname: '/embed', search: '?x=1', hash: `#token=${JWT}` },
      history: { replaceState, state: { idx: 0 } },
      storage,
    });
    expect(token).toBe(JWT);
    expect(storage.getItem(TOKEN_STORAGE_KEY)).toBe(JWT);
    expect(replaceState).toHaveBeenCalledExactlyOnceWith({ idx: 0 }, '', '/embed?x=1');
  });

  it('prefers a fresh fragment token over the stored one', () => {
    const storage = memoryStorage();
    storeToken('old.token.value', storage);
    const token = captureToken({
      location: { pathname: '/embed', search: '', hash: `#token=${JWT}` },
      history: { replaceState: vi.fn(), state: null },
      storage,
    });
    expect(token).toBe(JWT);
    expect(loadStoredToken(storage)).toBe(JWT);
  });

  it('falls back to the token stored by an earlier load of the tab, leaving the URL alone', () => {
    const storage = memoryStorage();
    storeToken(JWT, storage);
    const replaceState = vi.fn();
    expect(captureToken({ location: { pathname: '/accounts/1', search: '', hash: '' }, history: { replaceState, state: null }, storage })).toBe(
      JWT,
    );
    expect(replaceState).not.toHaveBeenCalled();
  });

  it('is null without a fragment token or a stored one', () => {
    expect(
      captureToken({ location: { pathname: '/', search: '', hash: '' }, history: { replaceState: vi.fn(), state: null }, storage: memoryStorage() }),
    ).toBeNull();
  });

  it('still uses the fragment token when storage is refused', () => {
    const replaceState = vi.fn();
    const token = captureToken({
      location: { pathname: '/embed', search: '', hash: `#token=${JWT}` },
      history: { replaceState, state: null },
      storage: refusingStorage(),
    });
    expect(token).toBe(JWT);
    expect(replaceState).toHaveBeenCalledWith(null, '', '/embed');
    expect(loadStoredToken(refusingStorage())).toBeNull();
    expect(() => clearStoredToken(refusingStorage())).not.toThrow();
  });
});

describe('tokenFromMessage', () => {
  const parent = {} as Window;
  const stranger = {} as Window;

  it('accepts {type: "patron:token", token} from a trusted window', () => {
    expect(tokenFromMessage({ source: parent, data: { type: 'patron:token', token: JWT } }, [parent])).toBe(JWT);
  });

  it('ignores other windows, other shapes and empty tokens', () => {
    expect(tokenFromMessage({ source: stranger, data: { type: 'patron:token', token: JWT } }, [parent])).toBeNull();
    expect(tokenFromMessage({ source: null, data: { type: 'patron:token', token: JWT } }, [parent])).toBeNull();
    expect(tokenFromMessage({ source: parent, data: { type: 'other', token: JWT } }, [parent])).toBeNull();
    expect(tokenFromMessage({ source: parent, data: `patron:token ${JWT}` }, [parent])).toBeNull();
    expect(tokenFromMessage({ source: parent, data: { type: 'patron:token', token: ' ' } }, [parent])).toBeNull();
    expect(tokenFromMessage({ source: parent, data: { type: 'patron:token', token: 42 } }, [parent])).toBeNull();
  });
});

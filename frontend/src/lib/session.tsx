import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Provider, useMutation, useQuery, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type { SessionQuery, StaffRole } from '../gql/graphql';
import { createClient, ensureCsrf, type PatronClient } from './client';
import { graphQLErrorCode } from './errors';
import { clearStoredToken, startupToken, storeToken, tokenFromMessage, trustedTokenSenders } from './token';

const SessionDocument = graphql(`
  query Session {
    viewer {
      displayName
      email
      profile {
        calendar
      }
      staffShops {
        role
        shop {
          id
          name
          slug
          currency
          timezone
        }
      }
    }
  }
`);

const LogoutDocument = graphql(`
  mutation Logout {
    logout {
      ok
    }
  }
`);

/** The logged-in user as the session query returns it. */
export type Viewer = NonNullable<SessionQuery['viewer']>;
/** One shop the user works for, with their role there. */
export type StaffShop = Viewer['staffShops'][number];

/** What `useSession()` gives. */
export interface Session {
  /** Null when nobody is logged in (or while loading). */
  viewer: Viewer | null;
  /** Shops the user works for; empty for customers. */
  staffShops: StaffShop[];
  /** True when the user is a customer (has a member profile). */
  isMember: boolean;
  /** True until the first answer about who is logged in. */
  loading: boolean;
  /** Set when the server could not say who is logged in (network down, server error). */
  error?: CombinedError;
  /** Re-reads the session after login: new socket (it authenticates on connect), empty cache. */
  refresh: () => void;
  /** Ends the session and forgets everything cached. */
  logout: () => Promise<void>;
  /**
   * True when the app runs on a storefront member token (`/embed#token=...`): the storefront
   * owns the session, so there is no login or logout.
   */
  tokenMode?: boolean;
  /** Set when the server refused the token (`TOKEN_EXPIRED`, `TOKEN_INVALID`, ..., or `SOCKET_REFUSED`). */
  tokenRefused?: string | null;
}

/** The session context; tests provide a value directly. */
export const SessionContext = createContext<Session | null>(null);

/** The current session; must be used under SessionProvider (or the test providers). */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** True when `role` may use the owner console (owners and managers). */
export function canUseConsole(role: StaffRole): boolean {
  return role === 'OWNER' || role === 'MANAGER';
}

interface LoaderProps {
  children: ReactNode;
  onReset: () => void;
  /** Token mode: logging out only forgets the token. */
  onForgetToken?: () => void;
  tokenRefused: string | null;
}

function SessionLoader({ children, onReset, onForgetToken, tokenRefused }: LoaderProps) {
  const [result] = useQuery({ query: SessionDocument, requestPolicy: 'cache-and-network' });
  const [, logoutMutation] = useMutation(LogoutDocument);
  const anonymous = graphQLErrorCode(result.error) === 'NOT_AUTHENTICATED';
  const viewer = anonymous ? null : (result.data?.viewer ?? null);
  const tokenMode = Boolean(onForgetToken);

  const logout = useCallback(async () => {
    if (onForgetToken) {
      onForgetToken();
      return;
    }
    await ensureCsrf();
    await logoutMutation({});
    onReset();
  }, [logoutMutation, onReset, onForgetToken]);

  const value = useMemo<Session>(
    () => ({
      viewer,
      staffShops: viewer?.staffShops ?? [],
      isMember: Boolean(viewer?.profile),
      loading: result.fetching && !result.data && !result.error,
      error: result.error && !anonymous ? result.error : undefined,
      refresh: onReset,
      logout,
      tokenMode,
      tokenRefused,
    }),
    [viewer, result.fetching, result.data, result.error, anonymous, onReset, logout, tokenMode, tokenRefused],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** A client for `token` whose refusals reach `report` only while it is the `current` one. */
function clientFor(
  token: string | null,
  current: { current: PatronClient | null },
  report: (code: string) => void,
): PatronClient {
  const created: PatronClient = createClient({
    token,
    onTokenRefused: (code) => {
      if (current.current === created) report(code);
    },
  });
  return created;
}

/**
 * Owns the urql client and the session: who is logged in and the shops they work for.
 * Login and logout replace the client so the cache and the socket start afresh.
 *
 * With a token (a storefront member token, see lib/token.ts: by default the one this page load
 * found in `#token=` or in the tab's storage) the client sends it instead of the
 * session cookie. A refusal by the server (expired, revoked, ...) is kept in `tokenRefused` for
 * the layout to explain. The page that frames or opened this one may hand over a fresh token
 * with `postMessage({type: 'patron:token', token}, '<patron origin>')`: it replaces the client.
 */
export function SessionProvider({ children, token: givenToken }: { children: ReactNode; token?: string | null }) {
  // Read before the router below reads the address: the fragment is gone by then.
  const [token, setToken] = useState<string | null>(() => (givenToken === undefined ? startupToken() : givenToken));
  const [tokenRefused, setTokenRefused] = useState<string | null>(null);
  // Refusals count only from the current client: a replaced one may still answer late.
  const current = useRef<PatronClient | null>(null);
  const [client, setClient] = useState<PatronClient>(() => clientFor(token, current, setTokenRefused));
  useEffect(() => {
    current.current = client;
  }, [client]);

  const replaceClient = useCallback(
    (nextToken: string | null) => {
      client.dispose();
      setTokenRefused(null);
      setToken(nextToken);
      setClient(clientFor(nextToken, current, setTokenRefused));
    },
    [client],
  );
  const reset = useCallback(() => replaceClient(token), [replaceClient, token]);
  const forgetToken = useCallback(() => {
    clearStoredToken();
    replaceClient(null);
  }, [replaceClient]);

  // A fresh token from the storefront, without a reload (only in token mode or on /embed).
  useEffect(() => {
    if (!token && !window.location.pathname.startsWith('/embed')) return undefined;
    const onMessage = (event: MessageEvent) => {
      const fresh = tokenFromMessage(event, trustedTokenSenders());
      if (!fresh) return;
      storeToken(fresh);
      replaceClient(fresh);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, [token, replaceClient]);

  return (
    <Provider value={client}>
      <SessionLoader onReset={reset} onForgetToken={token ? forgetToken : undefined} tokenRefused={tokenRefused}>
        {children}
      </SessionLoader>
    </Provider>
  );
}

import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { Provider, useMutation, useQuery, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type { SessionQuery, StaffRole } from '../gql/graphql';
import { createClient, ensureCsrf, type PatronClient } from './client';
import { graphQLErrorCode } from './errors';

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

function SessionLoader({ children, onReset }: { children: ReactNode; onReset: () => void }) {
  const [result] = useQuery({ query: SessionDocument, requestPolicy: 'cache-and-network' });
  const [, logoutMutation] = useMutation(LogoutDocument);
  const anonymous = graphQLErrorCode(result.error) === 'NOT_AUTHENTICATED';
  const viewer = anonymous ? null : (result.data?.viewer ?? null);

  const logout = useCallback(async () => {
    await ensureCsrf();
    await logoutMutation({});
    onReset();
  }, [logoutMutation, onReset]);

  const value = useMemo<Session>(
    () => ({
      viewer,
      staffShops: viewer?.staffShops ?? [],
      isMember: Boolean(viewer?.profile),
      loading: result.fetching && !result.data && !result.error,
      error: result.error && !anonymous ? result.error : undefined,
      refresh: onReset,
      logout,
    }),
    [viewer, result.fetching, result.data, result.error, anonymous, onReset, logout],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/**
 * Owns the urql client and the session: who is logged in and the shops they work for.
 * Login and logout replace the client so the cache and the socket start afresh.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [client, setClient] = useState<PatronClient>(() => createClient());
  const reset = useCallback(() => {
    client.dispose();
    setClient(createClient());
  }, [client]);
  return (
    <Provider value={client}>
      <SessionLoader onReset={reset}>{children}</SessionLoader>
    </Provider>
  );
}

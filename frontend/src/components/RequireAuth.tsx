import { Navigate, Outlet, useLocation } from 'react-router-dom';
import { useSession } from '../lib/session';
import { PageLoader } from './PageLoader';
import { QueryError } from './QueryError';

/** Renders the nested routes for a logged-in user; sends anyone else to /login and back. */
export function RequireAuth() {
  const { viewer, loading, error, refresh } = useSession();
  const location = useLocation();
  if (loading) return <PageLoader />;
  if (error && !viewer) return <QueryError error={error} onRetry={refresh} />;
  if (!viewer) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <Outlet />;
}

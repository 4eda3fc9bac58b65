import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { AppLayout } from './components/AppLayout';
import { PageLoader } from './components/PageLoader';
import { RequireAuth } from './components/RequireAuth';
import { LoginPage } from './auth/LoginPage';
import { HomePage } from './member/HomePage';
import { AccountPage } from './member/AccountPage';
import { ReferralApplyPage } from './member/ReferralApplyPage';
import TillPage from './cashier/TillPage';
import { EmbedRoutes } from './embed/EmbedRoutes';
import { TokenMessage } from './embed/TokenMessage';
import { useSession } from './lib/session';

// The console (forms, charts) is the heaviest part and only staff need it: load it on demand.
const ConsoleRoutes = lazy(() => import('./console').then((module) => ({ default: module.ConsoleRoutes })));

/**
 * Routes of the dashboard inside the common layout (header, language switch, logout); on a
 * storefront member token (`/embed#token=...`), the member's pages in the embed frame instead.
 */
export default function App() {
  const { tokenMode } = useSession();
  if (tokenMode) return <EmbedRoutes />;
  return (
    <Routes>
      <Route element={<AppLayout />}>
        <Route path="/login" element={<LoginPage />} />
        {/* The storefront's entry without a token (none in the fragment, none kept by this tab). */}
        <Route path="/embed" element={<TokenMessage code={null} />} />
        <Route element={<RequireAuth />}>
          <Route index element={<HomePage />} />
          <Route path="/accounts/:accountId" element={<AccountPage />} />
          <Route path="/r/:code" element={<ReferralApplyPage />} />
          <Route
            path="/console/:shopSlug/*"
            element={
              <Suspense fallback={<PageLoader />}>
                <ConsoleRoutes />
              </Suspense>
            }
          />
          <Route path="/till/:shopSlug" element={<TillPage />} />
        </Route>
        <Route path="*" element={<Navigate to="/" replace />} />
      </Route>
    </Routes>
  );
}

import { Navigate, Route, Routes } from 'react-router-dom';
import { AccountPage } from '../member/AccountPage';
import { HomePage } from '../member/HomePage';
import { ReferralApplyPage } from '../member/ReferralApplyPage';
import { EmbedLayout } from './EmbedLayout';

/**
 * Routes on a storefront member token: the member's pages only (a token names a customer, never
 * staff). `/embed` is the storefront's entry; `/` and `/accounts/…` are where the member pages
 * link; anything else (including `/login`) goes back to `/embed`.
 */
export function EmbedRoutes() {
  return (
    <Routes>
      <Route element={<EmbedLayout />}>
        <Route path="/embed" element={<HomePage />} />
        <Route index element={<HomePage />} />
        <Route path="/accounts/:accountId" element={<AccountPage />} />
        <Route path="/r/:code" element={<ReferralApplyPage />} />
        <Route path="*" element={<Navigate to="/embed" replace />} />
      </Route>
    </Routes>
  );
}

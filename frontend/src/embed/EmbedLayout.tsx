import { Anchor, AppShell, Group, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link, Outlet } from 'react-router-dom';
import { LanguageSwitch } from '../components/LanguageSwitch';
import { PageLoader } from '../components/PageLoader';
import { QueryError } from '../components/QueryError';
import { useSession } from '../lib/session';
import { AccountUpdates } from '../member/AccountUpdates';
import { TokenMessage } from './TokenMessage';

/**
 * The frame of the member view on a storefront token: brand, the member's name and the language
 * switch, and no login, logout or staff navigation (the storefront owns the session). A refused
 * token (expired, revoked) replaces the page with a message saying to reload the shop's page.
 */
export function EmbedLayout() {
  const { t } = useTranslation('common');
  const { viewer, isMember, loading, error, refresh, tokenRefused } = useSession();

  let content;
  if (tokenRefused) content = <TokenMessage code={tokenRefused} />;
  else if (loading) content = <PageLoader />;
  else if (error && !viewer) content = <QueryError error={error} onRetry={refresh} />;
  else if (!viewer) content = <TokenMessage code="TOKEN_INVALID" />;
  else
    content = (
      <>
        {isMember && <AccountUpdates />}
        <Outlet />
      </>
    );

  return (
    <AppShell header={{ height: 56 }} padding={{ base: 'sm', sm: 'md' }} data-testid="embed-layout">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Anchor component={Link} to="/embed" fw={700} size="lg" underline="never">
            {t('appName')}
          </Anchor>
          <Group gap="xs" wrap="nowrap">
            {viewer && !tokenRefused && (
              <Text size="sm" c="dimmed" visibleFrom="sm" truncate maw={200} data-testid="embed-member-name">
                {viewer.displayName}
              </Text>
            )}
            <LanguageSwitch />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Main>{content}</AppShell.Main>
    </AppShell>
  );
}

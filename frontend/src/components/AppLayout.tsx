import { Anchor, AppShell, Burger, Button, Group, NavLink, ScrollArea, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconHome, IconLogout } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { Link, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useSession } from '../lib/session';
import { LanguageSwitch } from './LanguageSwitch';
import { StaffLinks } from './StaffLinks';
import { AccountUpdates } from '../member/AccountUpdates';

/**
 * The page frame: header (brand, language switch, logout) and, for a logged-in user, a side
 * navigation that folds behind a burger on phones.
 */
export function AppLayout() {
  const { t } = useTranslation('common');
  const { viewer, isMember, logout } = useSession();
  const [opened, { toggle, close }] = useDisclosure(false);
  const navigate = useNavigate();
  const { pathname } = useLocation();

  const handleLogout = async () => {
    close();
    await logout();
    navigate('/login');
  };

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={viewer ? { width: 260, breakpoint: 'sm', collapsed: { mobile: !opened } } : undefined}
      padding={{ base: 'sm', sm: 'md' }}
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            {viewer && (
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('nav.menu')} />
            )}
            <Anchor component={Link} to="/" fw={700} size="lg" underline="never">
              {t('appName')}
            </Anchor>
          </Group>
          <Group gap="xs" wrap="nowrap">
            {viewer && (
              <Text size="sm" c="dimmed" visibleFrom="sm" truncate maw={200}>
                {viewer.displayName}
              </Text>
            )}
            <LanguageSwitch />
            {viewer && (
              <Button
                variant="light"
                size="compact-md"
                leftSection={<IconLogout size={16} aria-hidden />}
                onClick={() => void handleLogout()}
                data-testid="logout"
              >
                {t('logout')}
              </Button>
            )}
          </Group>
        </Group>
      </AppShell.Header>
      {viewer && (
        <AppShell.Navbar p="xs" aria-label={t('nav.label')}>
          <ScrollArea>
            <NavLink
              component={Link}
              to="/"
              label={isMember ? t('nav.accounts') : t('nav.home')}
              leftSection={<IconHome size={16} aria-hidden />}
              active={pathname === '/' || pathname.startsWith('/accounts/')}
              onClick={close}
            />
            <StaffLinks onNavigate={close} />
          </ScrollArea>
        </AppShell.Navbar>
      )}
      <AppShell.Main>
        {viewer && isMember && <AccountUpdates />}
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

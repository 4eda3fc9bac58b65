import { Alert, Badge, Group, ScrollArea, Stack, Tabs, Text, Title } from '@mantine/core';
import {
  IconActivity,
  IconAdjustmentsHorizontal,
  IconChartBar,
  IconGift,
  IconLock,
  IconPlugConnected,
  IconStairsUp,
  IconUsers,
  IconBolt,
  IconDiscount2,
  IconTicket,
  IconUsersGroup,
  IconMessages,
  IconCrown,
  IconReceipt,
} from '@tabler/icons-react';
import { useEffect, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes, useNavigate, useParams } from 'react-router-dom';
import { canUseConsole, useSession } from '../lib/session';
import { ActivityPage } from './ActivityPage';
import { AnalyticsPage } from './AnalyticsPage';
import { CouponsPage } from './CouponsPage';
import { IntegrationsPage } from './IntegrationsPage';
import { MembersPage } from './MembersPage';
import { MessagesPage } from './MessagesPage';
import { PlansPage } from './PlansPage';
import { PromotionsPage } from './PromotionsPage';
import { RewardsPage } from './RewardsPage';
import { RulesPage } from './RulesPage';
import { SegmentsPage } from './SegmentsPage';
import { SettingsPage } from './SettingsPage';
import { SubscriptionsPage } from './SubscriptionsPage';
import { TiersPage } from './TiersPage';
import { ConsoleShopProvider, PageLoader, type ConsoleShop } from './shared';

interface Section {
  path: string;
  icon: ReactNode;
  element: ReactNode;
  /** Owners and managers only; cashiers see members and activity. */
  editorsOnly: boolean;
  /** The shop's owner only (API keys and webhooks): managers and cashiers do not see it. */
  ownersOnly?: boolean;
}

const SECTIONS: Section[] = [
  { path: 'analytics', icon: <IconChartBar size={16} />, element: <AnalyticsPage />, editorsOnly: true },
  { path: 'members', icon: <IconUsers size={16} />, element: <MembersPage />, editorsOnly: false },
  { path: 'segments', icon: <IconUsersGroup size={16} />, element: <SegmentsPage />, editorsOnly: true },
  { path: 'activity', icon: <IconActivity size={16} />, element: <ActivityPage />, editorsOnly: false },
  { path: 'tiers', icon: <IconStairsUp size={16} />, element: <TiersPage />, editorsOnly: true },
  { path: 'rewards', icon: <IconGift size={16} />, element: <RewardsPage />, editorsOnly: true },
  { path: 'rules', icon: <IconBolt size={16} />, element: <RulesPage />, editorsOnly: true },
  { path: 'promotions', icon: <IconDiscount2 size={16} />, element: <PromotionsPage />, editorsOnly: true },
  { path: 'coupons', icon: <IconTicket size={16} />, element: <CouponsPage />, editorsOnly: true },
  { path: 'plans', icon: <IconCrown size={16} />, element: <PlansPage />, editorsOnly: true },
  { path: 'subscriptions', icon: <IconReceipt size={16} />, element: <SubscriptionsPage />, editorsOnly: true },
  { path: 'messages', icon: <IconMessages size={16} />, element: <MessagesPage />, editorsOnly: true },
  { path: 'settings', icon: <IconAdjustmentsHorizontal size={16} />, element: <SettingsPage />, editorsOnly: true },
  {
    path: 'integrations',
    icon: <IconPlugConnected size={16} />,
    element: <IntegrationsPage />,
    editorsOnly: true,
    ownersOnly: true,
  },
];

/**
 * The owner/manager console of one shop, mounted at `/console/:shopSlug/*`: tab navigation
 * and the sub-pages. The user's role there comes from the session's staff shops; cashiers
 * get the read-only pages and a clear refusal on the editing ones.
 */
export function ConsoleRoutes() {
  const { t } = useTranslation('console');
  const { shopSlug } = useParams();
  const { staffShops, loading } = useSession();

  if (loading) return <PageLoader />;
  const staff = staffShops.find((s) => s.shop.slug === shopSlug);
  if (!staff) {
    return (
      <Alert color="yellow" icon={<IconLock size={18} />} title={t('access.notStaffTitle')} data-testid="console-forbidden">
        {t('access.notStaff')}
      </Alert>
    );
  }
  const shop: ConsoleShop = { ...staff.shop, role: staff.role, canEdit: canUseConsole(staff.role) };
  return (
    <ConsoleShopProvider shop={shop}>
      <ConsoleLayout shop={shop} />
    </ConsoleShopProvider>
  );
}

function ConsoleLayout({ shop }: { shop: ConsoleShop }) {
  const { t } = useTranslation('console');
  const { t: tc } = useTranslation('common');
  const navigate = useNavigate();
  const { '*': rest = '' } = useParams();
  const sections = SECTIONS.filter((s) => (shop.canEdit || !s.editorsOnly) && (!s.ownersOnly || shop.role === 'OWNER'));
  const current = rest.split('/')[0] || null;
  const home = shop.canEdit ? 'analytics' : 'members';
  const tabsViewport = useRef<HTMLDivElement>(null);

  // On a phone the tab strip scrolls: bring the current section's tab into view.
  useEffect(() => {
    const tab = tabsViewport.current?.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]');
    // scrollIntoView handles right-to-left strips, where scrollLeft runs negative.
    tab?.scrollIntoView?.({ block: 'nearest', inline: 'center' });
  }, [current]);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="center" gap="xs">
        <Title order={1} size="h3">
          {t('title', { shop: shop.name })}
        </Title>
        <Group gap="xs">
          <Badge variant="light">{tc(`roles.${shop.role}`)}</Badge>
          <Text size="xs" c="dimmed">
            {shop.currency} · {shop.timezone}
          </Text>
        </Group>
      </Group>
      <ScrollArea type="auto" scrollbarSize={4} offsetScrollbars="x" viewportRef={tabsViewport}>
        <Tabs
          value={current}
          onChange={(value) => value && navigate(`/console/${shop.slug}/${value}`)}
          variant="pills"
          keepMounted={false}
        >
          <Tabs.List aria-label={t('nav.label')} style={{ flexWrap: 'nowrap' }}>
            {sections.map((s) => (
              <Tabs.Tab key={s.path} value={s.path} leftSection={s.icon} style={{ whiteSpace: 'nowrap' }}>
                {t(`nav.${s.path}`)}
              </Tabs.Tab>
            ))}
          </Tabs.List>
        </Tabs>
      </ScrollArea>
      <section aria-label={current ? t(`nav.${current}`, { defaultValue: '' }) : undefined}>
        <Routes>
          <Route index element={<Navigate to={home} replace />} />
          {SECTIONS.map((s) => (
            <Route key={s.path} path={`${s.path}/*`} element={s.element} />
          ))}
          <Route path="*" element={<Navigate to={home} replace />} />
        </Routes>
      </section>
    </Stack>
  );
}

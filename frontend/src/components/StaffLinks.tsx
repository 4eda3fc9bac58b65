import { NavLink } from '@mantine/core';
import { IconCash, IconDiscount2, IconSettings, IconTicket, IconUsersGroup } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import { canUseConsole, useSession } from '../lib/session';

/** Console sections with a link of their own in the menu (owners, managers). */
const CONSOLE_SHORTCUTS = [
  { path: 'segments', icon: IconUsersGroup },
  { path: 'promotions', icon: IconDiscount2 },
  { path: 'coupons', icon: IconTicket },
] as const;

/**
 * Links to the console with its segments, promotions and coupons (owners, managers) and the till (with
 * its checkout) of each shop the user works for.
 */
export function StaffLinks({ onNavigate }: { onNavigate?: () => void }) {
  const { t } = useTranslation('common');
  const { staffShops } = useSession();
  const { pathname } = useLocation();
  return (
    <>
      {staffShops.map(({ shop, role }) => (
        <NavLink
          key={shop.id}
          label={shop.name}
          description={t(`roles.${role}`)}
          defaultOpened={pathname.includes(`/${shop.slug}`)}
          childrenOffset="md"
        >
          {canUseConsole(role) && (
            <NavLink
              component={Link}
              to={`/console/${shop.slug}`}
              label={t('nav.console')}
              leftSection={<IconSettings size={16} aria-hidden />}
              active={
                pathname.startsWith(`/console/${shop.slug}`) &&
                !CONSOLE_SHORTCUTS.some((s) => pathname.startsWith(`/console/${shop.slug}/${s.path}`))
              }
              onClick={onNavigate}
            />
          )}
          {canUseConsole(role) &&
            CONSOLE_SHORTCUTS.map(({ path, icon: Icon }) => (
              <NavLink
                key={path}
                component={Link}
                to={`/console/${shop.slug}/${path}`}
                label={t(`nav.${path}`)}
                leftSection={<Icon size={16} aria-hidden />}
                active={pathname.startsWith(`/console/${shop.slug}/${path}`)}
                onClick={onNavigate}
              />
            ))}
          <NavLink
            component={Link}
            to={`/till/${shop.slug}`}
            label={t('nav.till')}
            leftSection={<IconCash size={16} aria-hidden />}
            active={pathname === `/till/${shop.slug}`}
            onClick={onNavigate}
          />
        </NavLink>
      ))}
    </>
  );
}

import { NavLink } from '@mantine/core';
import { IconCash, IconSettings } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import { canUseConsole, useSession } from '../lib/session';

/** Links to the console (owners, managers) and the till of each shop the user works for. */
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
              active={pathname.startsWith(`/console/${shop.slug}`)}
              onClick={onNavigate}
            />
          )}
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

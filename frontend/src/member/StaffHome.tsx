import { Button, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { EmptyState } from '../components/EmptyState';
import { canUseConsole, useSession } from '../lib/session';

/** The shops a staff member works for, with their console and till. */
export function StaffHome() {
  const { t } = useTranslation('common');
  const { staffShops } = useSession();
  return (
    <Stack>
      <Title order={1} size="h2">
        {t('staff.title')}
      </Title>
      {staffShops.length === 0 && <EmptyState title={t('staff.none')} />}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {staffShops.map(({ shop, role }) => (
          <Card key={shop.id} withBorder padding="lg" data-testid="staff-shop" data-shop-slug={shop.slug}>
            <Stack gap="sm">
              <div>
                <Title order={2} size="h4">
                  {shop.name}
                </Title>
                <Text size="sm" c="dimmed">
                  {t(`roles.${role}`)}
                </Text>
              </div>
              <Group gap="xs">
                {canUseConsole(role) && (
                  <Button component={Link} to={`/console/${shop.slug}`} variant="light">
                    {t('nav.console')}
                  </Button>
                )}
                <Button component={Link} to={`/till/${shop.slug}`} variant="default">
                  {t('nav.till')}
                </Button>
              </Group>
            </Stack>
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  );
}

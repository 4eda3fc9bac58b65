import { Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { IconChevronRight } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import type { AccountSummaryFieldsFragment } from '../gql/graphql';
import { AnimatedNumber } from '../components/AnimatedNumber';
import { TierBadge } from '../components/TierBadge';
import { formatPoints } from '../lib/format';
import { PointsSchedule } from './PointsSchedule';
import { TierProgressBar } from './TierProgressBar';

interface AccountCardProps {
  account: AccountSummaryFieldsFragment;
  /** Hide the link when the card heads the account's own page. */
  showLink?: boolean;
  /** How many expiry and release dates to list. */
  scheduleLimit?: number;
  /** 1 when the card heads its page. */
  headingLevel?: 1 | 2;
}

/** One shop account: tier, available and pending points, tier progress, expiring points. */
export function AccountCard({ account, showLink = true, scheduleLimit = 1, headingLevel = 2 }: AccountCardProps) {
  const { t } = useTranslation('member');
  return (
    <Card withBorder shadow="xs" padding="lg" h="100%" data-testid="account-card" data-shop-slug={account.shop.slug} data-account-id={account.id}>
      <Stack gap="md" h="100%">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Title order={headingLevel} size="h3" lineClamp={2}>
            {account.shop.name}
          </Title>
          {account.tier && <TierBadge tier={account.tier} size="lg" data-testid="tier-badge" style={{ flexShrink: 0 }} />}
        </Group>
        <Group gap="xl" align="flex-start">
          <Stack gap={0}>
            <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
              {t('available')}
            </Text>
            <AnimatedNumber
              value={account.pointsAvailable}
              format={formatPoints}
              fz={32}
              fw={700}
              lh={1.2}
              data-testid="points-available"
            />
          </Stack>
          <Stack gap={0}>
            <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
              {t('pending')}
            </Text>
            <AnimatedNumber
              value={account.pointsPending}
              format={formatPoints}
              fz="xl"
              fw={600}
              c="dimmed"
              lh={1.2}
              mt={8}
              data-testid="points-pending"
            />
          </Stack>
        </Group>
        <TierProgressBar account={account} />
        <PointsSchedule expiring={account.expiringPoints} pending={account.pendingReleases} limit={scheduleLimit} />
        {showLink && (
          <Button
            mt="auto"
            component={Link}
            to={`/accounts/${encodeURIComponent(account.id)}`}
            variant="light"
            rightSection={<IconChevronRight size={16} aria-hidden className="patron-flip-rtl" />}
            aria-label={t('openAccountOf', { shop: account.shop.name })}
          >
            {t('openAccount')}
          </Button>
        )}
      </Stack>
    </Card>
  );
}

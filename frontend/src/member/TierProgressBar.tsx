import { Progress, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { AccountSummaryFieldsFragment } from '../gql/graphql';
import { formatDate, formatMoney, formatPoints } from '../lib/format';
import { tierName } from '../lib/localize';

interface TierProgressBarProps {
  account: AccountSummaryFieldsFragment;
}

/** Progress to the next tier: a bar and "N more to Gold" (money on spend-based programs). */
export function TierProgressBar({ account }: TierProgressBarProps) {
  const { t, i18n } = useTranslation('member');
  const progress = account.tierProgress;
  const next = progress.nextTier;
  const percent = Math.round(Math.min(1, Math.max(0, progress.fraction)) * 100);
  const remaining = Number(progress.remaining ?? 0);
  const amount =
    account.program.tierBasis === 'SPEND'
      ? formatMoney(remaining, account.shop.currency)
      : t('pointsUnit', { value: formatPoints(remaining) });
  const label = next ? t('tierProgress.more', { amount, tier: tierName(next, i18n.language) }) : t('tierProgress.top');

  return (
    <Stack gap={4} data-testid="tier-progress" data-fraction={progress.fraction} data-remaining={progress.remaining ?? ''}>
      <Progress
        value={percent}
        color={next?.color ?? account.tier?.color ?? 'violet'}
        size="lg"
        radius="xl"
        aria-label={label}
        transitionDuration={600}
      />
      <Text size="sm" c="dimmed">
        {label}
        {next && progress.windowEndsAt ? ` · ${t('tierProgress.by', { date: formatDate(progress.windowEndsAt) })}` : ''}
      </Text>
    </Stack>
  );
}

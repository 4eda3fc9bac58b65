import { useState } from 'react';
import { SimpleGrid, Stack, Title } from '@mantine/core';
import { IconGift } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import type { AccountRewardFieldsFragment, RedemptionFieldsFragment } from '../gql/graphql';
import { EmptyState } from '../components/EmptyState';
import { RedemptionModal } from './RedemptionModal';
import { RewardCard } from './RewardCard';

/** Rewards the member can redeem now first, the rest after; catalogue order otherwise. */
export function sortRewards<T extends { affordable: boolean }>(rewards: readonly T[]): T[] {
  return rewards
    .map((item, index) => ({ item, index }))
    .sort((a, b) => Number(b.item.affordable) - Number(a.item.affordable) || a.index - b.index)
    .map(({ item }) => item);
}

/** The shop's rewards for this member, with the code of the last redemption in a dialog. */
export function RewardsList({ rewards }: { rewards: readonly AccountRewardFieldsFragment[] }) {
  const { t } = useTranslation('member');
  const [redeemed, setRedeemed] = useState<RedemptionFieldsFragment | null>(null);
  return (
    <Stack gap="sm" component="section" aria-labelledby="rewards-title">
      <Title order={2} size="h3" id="rewards-title">
        {t('rewards.title')}
      </Title>
      {rewards.length === 0 ? (
        <EmptyState title={t('rewards.empty')} icon={<IconGift size={28} aria-hidden />} />
      ) : (
        <SimpleGrid cols={{ base: 1, xs: 2, md: 3, lg: 4 }}>
          {sortRewards(rewards).map((item) => (
            <RewardCard key={item.reward.id} item={item} onRedeemed={setRedeemed} />
          ))}
        </SimpleGrid>
      )}
      <RedemptionModal redemption={redeemed} onClose={() => setRedeemed(null)} />
    </Stack>
  );
}

import { useState } from 'react';
import { Badge, Button, Card, Group, Image, Stack, Text } from '@mantine/core';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { AccountRewardFieldsFragment, RedemptionFieldsFragment } from '../gql/graphql';
import { TierBadge } from '../components/TierBadge';
import { combinedErrorMessage, errorMessage } from '../lib/errors';
import { formatMoney, formatNumber, formatPoints } from '../lib/format';
import { useIdempotencyKey } from '../lib/idempotency';
import { rewardText } from '../lib/localize';

const RewardRedeemDocument = graphql(`
  mutation RewardRedeem($input: RewardRedeemInput!, $idempotencyKey: String!) {
    rewardRedeem(input: $input, idempotencyKey: $idempotencyKey) {
      replayed
      redemption {
        ...RedemptionWithBalanceFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

interface RewardCardProps {
  item: AccountRewardFieldsFragment;
  onRedeemed: (redemption: RedemptionFieldsFragment) => void;
}

function valueLabel(reward: AccountRewardFieldsFragment['reward'], t: TFunction): string | null {
  if (reward.value == null) return null;
  if (reward.kind === 'FIXED_AMOUNT') return formatMoney(reward.value, reward.currency);
  if (reward.kind === 'PERCENTAGE') return t('reward.percentOff', { value: formatNumber(reward.value) });
  return null;
}

/** A reward with its cost and a Redeem button (disabled, with the reason, when out of reach). */
export function RewardCard({ item, onRedeemed }: RewardCardProps) {
  const { t, i18n } = useTranslation('member');
  const { reward } = item;
  const text = rewardText(reward, i18n.language);
  const [{ fetching }, redeem] = useMutation(RewardRedeemDocument);
  const idempotency = useIdempotencyKey();
  const [error, setError] = useState<string | null>(null);

  const handleRedeem = async () => {
    setError(null);
    const result = await redeem({ input: { rewardId: reward.id }, idempotencyKey: idempotency.key() });
    if (result.error) {
      // Same key on retry: the server answers a repeated request with the first result.
      setError(combinedErrorMessage(result.error));
      return;
    }
    idempotency.reset();
    const payload = result.data?.rewardRedeem;
    if (payload?.errors.length) setError(errorMessage(payload.errors[0]));
    else if (payload?.redemption) onRedeemed(payload.redemption);
  };

  const value = valueLabel(reward, t);
  const unavailable = !item.affordable && item.reasonUnavailable ? errorMessage({ code: item.reasonUnavailable, message: item.message }) : null;

  return (
    <Card
      withBorder
      padding="md"
      data-testid="reward-card"
      data-reward-name={reward.name}
      data-affordable={item.affordable}
      opacity={item.affordable ? 1 : 0.8}
    >
      {reward.imageUrl && (
        <Card.Section mb="sm">
          <Image src={reward.imageUrl} alt="" h={120} fit="cover" />
        </Card.Section>
      )}
      <Stack gap="xs" h="100%">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Text fw={700}>{text.name}</Text>
          <Badge variant="light" size="lg" style={{ flexShrink: 0 }}>
            {t('pointsUnit', { value: formatPoints(reward.pointsCost) })}
          </Badge>
        </Group>
        {text.description && (
          <Text size="sm" c="dimmed" lineClamp={3}>
            {text.description}
          </Text>
        )}
        <Group gap="xs">
          {value && <Badge variant="outline">{value}</Badge>}
          {reward.minTier && <TierBadge tier={reward.minTier} variant="light" size="sm" />}
          {reward.stock != null && (
            <Text size="xs" c="dimmed">
              {t('reward.stock', { count: reward.stock, value: formatNumber(reward.stock) })}
            </Text>
          )}
        </Group>
        {unavailable && (
          <Text size="sm" c="orange.9">
            {unavailable}
          </Text>
        )}
        {error && (
          <Text size="sm" c="red" role="alert">
            {error}
          </Text>
        )}
        <Button
          mt="auto"
          onClick={() => void handleRedeem()}
          loading={fetching}
          disabled={!item.affordable}
        >
          {t('reward.redeem')}
        </Button>
      </Stack>
    </Card>
  );
}

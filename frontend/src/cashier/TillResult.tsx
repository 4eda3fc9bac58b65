import { Alert, Group, Stack, Text } from '@mantine/core';
import { IconAlertTriangle, IconCircleCheck, IconCircleX } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import type { TillRedemptionFieldsFragment } from '../gql/graphql';
import { TierBadge } from '../components/TierBadge';
import { formatDate, formatPoints } from '../lib/format';
import { rewardText } from '../lib/localize';
import { STATE_COLORS, type TillState } from './tillState';

interface TillResultProps {
  state: TillState;
  redemption: TillRedemptionFieldsFragment | null;
  /** The server's explanation, for refusals. */
  message?: string;
}

function StateIcon({ state }: { state: TillState }) {
  if (state === 'valid' || state === 'consumed') return <IconCircleCheck size={28} aria-hidden />;
  if (state === 'used' || state === 'expired') return <IconAlertTriangle size={28} aria-hidden />;
  return <IconCircleX size={28} aria-hidden />;
}

/** The outcome of a check or a consume: what the code is for, or why it cannot be used. */
export function TillResult({ state, redemption, message }: TillResultProps) {
  const { t, i18n } = useTranslation('cashier');
  return (
    <Alert
      color={STATE_COLORS[state]}
      variant="light"
      icon={<StateIcon state={state} />}
      title={<Text fw={700} fz="lg">{t(`states.${state}.title`)}</Text>}
      data-testid="till-result"
      data-state={state}
      role={state === 'valid' || state === 'consumed' ? 'status' : 'alert'}
    >
      <Stack gap={6}>
        <Text>{state === 'error' && message ? message : t(`states.${state}.text`)}</Text>
        {redemption && (
          <Stack gap={4} data-testid="till-redemption">
            <Text fw={700} fz="xl" data-testid="till-reward">
              {rewardText(redemption.reward, i18n.language).name}
            </Text>
            <Group gap="xs">
              <Text>{t('member', { name: redemption.holder.displayName || t('anonymous') })}</Text>
              {redemption.holder.tier && <TierBadge tier={redemption.holder.tier} size="sm" />}
            </Group>
            <Text size="sm" c="dimmed">
              {t('details', { points: formatPoints(redemption.points), date: formatDate(redemption.expiresAt) })}
            </Text>
          </Stack>
        )}
      </Stack>
    </Alert>
  );
}

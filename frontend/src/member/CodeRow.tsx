import { Badge, Button, Group, Paper, Stack, Text } from '@mantine/core';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import type { RedemptionFieldsFragment, RedemptionStatus } from '../gql/graphql';
import { formatDate, formatDateTime } from '../lib/format';
import { rewardText } from '../lib/localize';
import { RedemptionCode } from './RedemptionCode';

/** Badge colour per code status. */
export const STATUS_COLORS: Record<RedemptionStatus, string> = {
  ISSUED: 'teal',
  USED: 'gray',
  EXPIRED: 'orange',
  CANCELLED: 'red',
};

function statusDate(redemption: RedemptionFieldsFragment, t: TFunction): string {
  switch (redemption.status) {
    case 'ISSUED':
      return t('codes.validUntil', { date: formatDate(redemption.expiresAt) });
    case 'USED':
      return redemption.usedAt ? t('codes.usedOn', { date: formatDateTime(redemption.usedAt) }) : '';
    case 'EXPIRED':
      return t('codes.expiredOn', { date: formatDate(redemption.expiredAt ?? redemption.expiresAt) });
    case 'CANCELLED':
      return redemption.cancelledAt ? t('codes.cancelledOn', { date: formatDate(redemption.cancelledAt) }) : '';
  }
}

interface CodeRowProps {
  redemption: RedemptionFieldsFragment;
  /** Asked to cancel this code (offered for issued codes only). */
  onCancel?: (redemption: RedemptionFieldsFragment) => void;
}

/** One of the member's codes: reward, the code (large when usable), status and its date. */
export function CodeRow({ redemption, onCancel }: CodeRowProps) {
  const { t, i18n } = useTranslation('member');
  const usable = redemption.status === 'ISSUED';
  return (
    <Paper withBorder p="sm" component="li" data-testid="code-row" data-code={redemption.code} data-status={redemption.status}>
      <Stack gap={4}>
        <Group justify="space-between" wrap="nowrap">
          <Text fw={600} lineClamp={1}>
            {rewardText(redemption.reward, i18n.language).name}
          </Text>
          <Badge color={STATUS_COLORS[redemption.status]} variant={usable ? 'filled' : 'light'}>
            {t(`codes.status.${redemption.status}`)}
          </Badge>
        </Group>
        <RedemptionCode code={redemption.code} fz={usable ? { base: 20, sm: 24 } : 'md'} c={usable ? undefined : 'dimmed'} td={usable ? undefined : 'line-through'} />
        <Text size="xs" c="dimmed" ta="center">
          {statusDate(redemption, t)}
        </Text>
        {usable && onCancel && (
          <Button
            variant="subtle"
            color="red"
            size="compact-sm"
            mx="auto"
            onClick={() => onCancel(redemption)}
            aria-label={t('cancelCode.buttonFor', { code: redemption.code })}
          >
            {t('cancelCode.button')}
          </Button>
        )}
      </Stack>
    </Paper>
  );
}

import { Badge, Group, Paper, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { LedgerEntryFieldsFragment } from '../gql/graphql';
import { formatDateTime, formatSignedPoints } from '../lib/format';

const KIND_COLORS: Record<string, string> = {
  EARN: 'teal',
  BONUS: 'grape',
  RELEASE: 'blue',
  REVERSE: 'orange',
  REDEEM: 'violet',
  REFUND: 'cyan',
  EXPIRE: 'gray',
  ADJUST: 'yellow',
};

/** One ledger movement: kind, reason, when, and the signed points. */
export function LedgerRow({ entry }: { entry: LedgerEntryFieldsFragment }) {
  const { t } = useTranslation('member');
  const signed = formatSignedPoints(entry.points);
  return (
    <Paper withBorder p="sm" component="li" data-testid="ledger-row" data-kind={entry.kind} data-points={entry.points}>
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Stack gap={2} miw={0}>
          <Group gap="xs">
            <Badge variant="light" color={KIND_COLORS[entry.kind] ?? 'gray'} size="sm">
              {t(`kinds.${entry.kind}`)}
            </Badge>
            <Text size="xs" c="dimmed">
              {formatDateTime(entry.createdAt)}
            </Text>
          </Group>
          <Text size="sm" data-testid="ledger-reason">
            {entry.reason || t('ledger.noReason')}
          </Text>
          {entry.source.orderExternalId && (
            <Text size="xs" c="dimmed">
              {t('ledger.order', { order: entry.source.orderExternalId })}
            </Text>
          )}
        </Stack>
        <Text fw={700} c={entry.points >= 0 ? 'teal.8' : 'red.8'} style={{ whiteSpace: 'nowrap' }} aria-label={t('ledger.pointsLabel', { points: signed })}>
          {signed}
        </Text>
      </Group>
    </Paper>
  );
}

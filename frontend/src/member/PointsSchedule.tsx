import { List, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { formatDate, formatPoints } from '../lib/format';

interface PointsScheduleProps {
  expiring: readonly { date: string; points: number }[];
  pending: readonly { date: string; points: number }[];
  /** How many dates of each list to show. */
  limit?: number;
}

/** "N points expire on D" and "N points become available on D". */
export function PointsSchedule({ expiring, pending, limit = 1 }: PointsScheduleProps) {
  const { t } = useTranslation('member');
  if (!expiring.length && !pending.length) {
    return (
      <Text size="sm" c="dimmed">
        {t('schedule.none')}
      </Text>
    );
  }
  return (
    <List size="sm" spacing={2} listStyleType="none" data-testid="points-schedule">
      {expiring.slice(0, limit).map((row) => (
        <List.Item key={`e-${row.date}`}>
          <Text span size="sm" c="orange.8" data-testid="points-expiring" data-value={row.points}>
            {t('schedule.expiring', { points: formatPoints(row.points), date: formatDate(row.date) })}
          </Text>
        </List.Item>
      ))}
      {pending.slice(0, limit).map((row) => (
        <List.Item key={`p-${row.date}`}>
          <Text span size="sm" c="dimmed">
            {t('schedule.releasing', { points: formatPoints(row.points), date: formatDate(row.date) })}
          </Text>
        </List.Item>
      ))}
    </List>
  );
}

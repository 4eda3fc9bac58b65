import { useCallback, useState } from 'react';
import { Stack, Title } from '@mantine/core';
import { IconHistory } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { EmptyState } from '../components/EmptyState';
import { LedgerPage } from './LedgerPage';

/**
 * The account's ledger history, newest first, with infinite scroll: each loaded page is its own
 * query, so a live update refreshes every page in place.
 */
export function LedgerList({ accountId }: { accountId: string }) {
  const { t } = useTranslation('member');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [total, setTotal] = useState<number | null>(null);
  const more = useCallback(
    (endCursor: string) => setCursors((list) => (list.includes(endCursor) ? list : [...list, endCursor])),
    [],
  );
  return (
    <Stack gap="sm" component="section" aria-labelledby="ledger-title">
      <Title order={2} size="h3" id="ledger-title">
        {t('ledger.title')}
      </Title>
      {total === 0 ? (
        <EmptyState title={t('ledger.empty')} icon={<IconHistory size={28} aria-hidden />} />
      ) : (
        <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: 'none' }}>
          {cursors.map((after, index) => (
            <LedgerPage
              key={after ?? 'first'}
              accountId={accountId}
              after={after}
              isLast={index === cursors.length - 1}
              onMore={more}
              onTotal={index === 0 ? setTotal : undefined}
            />
          ))}
        </Stack>
      )}
    </Stack>
  );
}

import { useEffect } from 'react';
import { Button, Center, Loader, Skeleton, Stack } from '@mantine/core';
import { useIntersection } from '@mantine/hooks';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { QueryError } from '../components/QueryError';
import { useRefetchOnReconnect } from '../lib/live';
import { LedgerRow } from './LedgerRow';

const AccountEntriesDocument = graphql(`
  query AccountEntries($accountId: ID!, $after: String, $first: Int!, $language: String) {
    viewer {
      account(id: $accountId) {
        id
        entries(first: $first, after: $after) {
          totalCount
          edges {
            node {
              ...LedgerEntryFields
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  }
`);

/** Entries per page of the history. */
export const LEDGER_PAGE_SIZE = 20;

function LoadMore({ onLoad }: { onLoad: () => void }) {
  const { t } = useTranslation('member');
  const { ref, entry } = useIntersection<HTMLLIElement>({ rootMargin: '300px' });
  const visible = entry?.isIntersecting ?? false;
  useEffect(() => {
    if (visible) onLoad();
  }, [visible, onLoad]);
  return (
    <Center ref={ref} py="sm" component="li">
      {/* The button keeps paging possible without scrolling (keyboard, short screens). */}
      <Button variant="subtle" onClick={onLoad}>
        {t('ledger.more')}
      </Button>
    </Center>
  );
}

interface LedgerPageProps {
  accountId: string;
  after: string | null;
  /** True for the last page loaded so far: it offers the next one. */
  isLast: boolean;
  onMore: (endCursor: string) => void;
  /** Told the total count once known (first page only). */
  onTotal?: (total: number) => void;
}

/** One page of the account's history; the last page loads the next when scrolled into view. */
export function LedgerPage({ accountId, after, isLast, onMore, onTotal }: LedgerPageProps) {
  const { t, i18n } = useTranslation('member');
  const [result, reexecute] = useQuery({
    query: AccountEntriesDocument,
    // Reasons come back in the reader's language (Persian digits and names in Persian).
    variables: { accountId, after, first: LEDGER_PAGE_SIZE, language: i18n.resolvedLanguage ?? i18n.language },
    requestPolicy: 'cache-and-network',
  });
  const refetch = () => reexecute({ requestPolicy: 'network-only' });
  useRefetchOnReconnect(refetch);
  const entries = result.data?.viewer?.account?.entries;
  const total = entries?.totalCount;
  useEffect(() => {
    if (total != null) onTotal?.(total);
  }, [total, onTotal]);

  if (result.error && !entries) return <QueryError error={result.error} onRetry={refetch} />;
  if (!entries) {
    return after ? (
      <Center py="sm" role="status" aria-label={t('ledger.loading')} component="li">
        <Loader size="sm" />
      </Center>
    ) : (
      <Stack gap="xs" aria-busy component="li">
        <Skeleton h={64} />
        <Skeleton h={64} />
        <Skeleton h={64} />
      </Stack>
    );
  }
  const { hasNextPage, endCursor } = entries.pageInfo;
  return (
    <>
      {entries.edges.map(({ node }) => (
        <LedgerRow key={node.id} entry={node} />
      ))}
      {isLast && hasNextPage && endCursor && <LoadMore onLoad={() => onMore(endCursor)} />}
    </>
  );
}

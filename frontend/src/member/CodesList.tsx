import { useCallback, useEffect, useMemo, useState } from 'react';
import { Button, Center, Loader, SimpleGrid, Skeleton, Stack, Title } from '@mantine/core';
import { IconTicket } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useQuery, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type { RedemptionFieldsFragment, RedemptionStatus } from '../gql/graphql';
import { EmptyState } from '../components/EmptyState';
import { QueryError } from '../components/QueryError';
import { useRefetchOnReconnect } from '../lib/live';
import { formatNumber } from '../lib/format';
import { CancelCodeModal } from './CancelCodeModal';
import { CodeRow } from './CodeRow';

const MemberCodesDocument = graphql(`
  query MemberCodes($shopId: ID!, $first: Int!, $after: String) {
    viewer {
      redemptions(shopId: $shopId, first: $first, after: $after) {
        edges {
          node {
            ...RedemptionFields
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

/** Codes per page of the list. */
export const CODES_PAGE_SIZE = 12;

/** Order of the status groups: usable codes first. */
export const STATUS_ORDER: RedemptionStatus[] = ['ISSUED', 'USED', 'EXPIRED', 'CANCELLED'];

/** Codes grouped by status, in STATUS_ORDER, skipping empty groups. */
export function groupByStatus(codes: readonly RedemptionFieldsFragment[]): [RedemptionStatus, RedemptionFieldsFragment[]][] {
  return STATUS_ORDER.map((status) => [status, codes.filter((code) => code.status === status)] as [RedemptionStatus, RedemptionFieldsFragment[]]).filter(
    ([, group]) => group.length > 0,
  );
}

/** What one page query has answered so far. */
interface PageState {
  codes?: RedemptionFieldsFragment[];
  hasNextPage?: boolean;
  endCursor?: string | null;
  error?: CombinedError;
  retry: () => void;
}

// An empty list holds no Redemption, so without this urql would not know that a redeemed or
// cancelled code (or a live event) concerns it.
const pageContext = { additionalTypenames: ['Redemption'] };

/**
 * One page of the shop's codes. It renders nothing: it hands its answer to the list, which
 * groups the codes of every page by status. Each page stays its own query so a cache
 * invalidation (a cancel, a redeem, a live event) refreshes all loaded pages in place.
 */
function CodesPageQuery({ shopId, after, onState }: { shopId: string; after: string | null; onState: (after: string | null, state: PageState) => void }) {
  const [result, reexecute] = useQuery({
    query: MemberCodesDocument,
    variables: { shopId, first: CODES_PAGE_SIZE, after },
    requestPolicy: 'cache-and-network',
    context: pageContext,
  });
  const retry = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);
  useRefetchOnReconnect(retry);
  const connection = result.data?.viewer?.redemptions;
  useEffect(() => {
    onState(after, {
      codes: connection?.edges.map((edge) => edge.node),
      hasNextPage: connection?.pageInfo.hasNextPage,
      endCursor: connection?.pageInfo.endCursor,
      error: result.error,
      retry,
    });
  }, [after, connection, result.error, retry, onState]);
  return null;
}

const pageKey = (after: string | null) => after ?? '';

/** The member's codes in one shop, grouped by status, loaded a page at a time; issued ones can be cancelled. */
export function CodesList({ shopId }: { shopId: string }) {
  const { t } = useTranslation('member');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [pages, setPages] = useState<Record<string, PageState>>({});
  const [cancelling, setCancelling] = useState<RedemptionFieldsFragment | null>(null);
  const onState = useCallback((after: string | null, state: PageState) => setPages((all) => ({ ...all, [pageKey(after)]: state })), []);

  const first = pages[pageKey(null)];
  const last = pages[pageKey(cursors[cursors.length - 1])];
  const codes = useMemo(() => {
    // Pages are offsets into a list that grows at the top, so a new code can push one code
    // onto the next page too: keep each code once.
    const seen = new Set<string>();
    return cursors
      .flatMap((after) => pages[pageKey(after)]?.codes ?? [])
      .filter((code) => {
        if (seen.has(code.id)) return false;
        seen.add(code.id);
        return true;
      });
  }, [cursors, pages]);
  const loadingMore = cursors.length > 1 && !last?.codes && !last?.error;
  const loadMore = () => {
    const next = last?.endCursor;
    if (next) setCursors((list) => (list.includes(next) ? list : [...list, next]));
  };

  return (
    <Stack gap="sm" component="section" aria-labelledby="codes-title">
      <Title order={2} size="h3" id="codes-title">
        {t('codes.title')}
      </Title>
      {cursors.map((after) => (
        <CodesPageQuery key={pageKey(after)} shopId={shopId} after={after} onState={onState} />
      ))}
      {first?.error && !first.codes && <QueryError error={first.error} onRetry={first.retry} />}
      {!first?.codes && !first?.error && <Skeleton h={96} />}
      {first?.codes && codes.length === 0 && <EmptyState title={t('codes.empty')} icon={<IconTicket size={28} aria-hidden />} />}
      {groupByStatus(codes).map(([status, group]) => (
        <Stack key={status} gap="xs" data-testid="code-group" data-status={status}>
          <Title order={3} size="h5" c="dimmed">
            {t(`codes.groups.${status}`, { value: formatNumber(group.length) })}
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} component="ul" p={0} m={0} style={{ listStyle: 'none' }}>
            {group.map((code) => (
              <CodeRow key={code.id} redemption={code} onCancel={setCancelling} />
            ))}
          </SimpleGrid>
        </Stack>
      ))}
      {loadingMore && (
        <Center py="sm" role="status" aria-label={t('codes.loading')}>
          <Loader size="sm" />
        </Center>
      )}
      {cursors.length > 1 && last?.error && !last.codes && <QueryError error={last.error} onRetry={last.retry} />}
      {last?.codes && last.hasNextPage && last.endCursor && (
        <Center>
          <Button variant="subtle" onClick={loadMore}>
            {t('codes.more')}
          </Button>
        </Center>
      )}
      <CancelCodeModal redemption={cancelling} onClose={() => setCancelling(null)} />
    </Stack>
  );
}

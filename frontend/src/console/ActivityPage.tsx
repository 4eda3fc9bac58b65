import { useCallback, useEffect, useRef, useState } from 'react';
import { Anchor, Badge, Button, Center, Group, Paper, Stack, Text } from '@mantine/core';
import { IconPlayerPause, IconPlayerPlay, IconRefresh } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useClient, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type { ConsoleActivityQuery, ConsoleShopActivitySubscription } from '../gql/graphql';
import { formatDateTime, formatPoints } from '../lib/format';
import { useRefetchOnReconnect } from '../lib/live';
import { MemberDrawer } from './MemberDrawer';
import { EmptyPanel, ErrorAlert, PageHeader, PageLoader, useConsoleShop } from './shared';

const ShopActivitySubscription = graphql(`
  subscription ConsoleShopActivity($shopId: ID!) {
    shopActivity(shopId: $shopId) {
      entryId
      kind
      points
      reason
      tierChanged
      account {
        id
        pointsAvailable
        pointsPending
        member {
          displayName
        }
        tier {
          id
          name
          color
        }
      }
    }
  }
`);

const ActivityQuery = graphql(`
  query ConsoleActivity($slug: String!, $first: Int!, $after: String) {
    shop(slug: $slug) {
      id
      activity(first: $first, after: $after) {
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            id
            kind
            points
            reason
            createdAt
            availableAfter
            pendingAfter
            adjustedBy
            account {
              id
              member {
                displayName
              }
            }
          }
        }
      }
    }
  }
`);

/** How many live events the feed keeps above the history; older ones drop off. */
export const FEED_LIMIT = 100;

/** Ledger entries per history page. */
export const PAGE_SIZE = 25;

type LiveEvent = ConsoleShopActivitySubscription['shopActivity'];
type HistoryEntry = NonNullable<ConsoleActivityQuery['shop']>['activity']['edges'][number]['node'];

/** One live event with its arrival order and time. */
export interface LiveItem {
  seq: number;
  receivedAt: string;
  event: LiveEvent;
}

/** The loaded part of the shop's ledger, newest first, and where "Load older" goes on. */
export interface History {
  entries: HistoryEntry[];
  cursor: string | null;
  hasMore: boolean;
}

/**
 * Folds a freshly fetched first page into what was loaded before. When the page overlaps the
 * old entries nothing is missing in between, so older pages stay and "Load older" goes on
 * from the old cursor (the deepest one; entries it repeats are skipped). When it does not
 * (more new entries than a page while disconnected), keeping them would hide a gap, so the
 * history starts over from the page.
 */
export function mergeFirstPage(previous: History | null, page: History): History {
  if (!previous) return page;
  const fresh = new Set(page.entries.map((e) => e.id));
  if (!previous.entries.some((e) => fresh.has(e.id))) return page;
  return {
    entries: [...page.entries, ...previous.entries.filter((e) => !fresh.has(e.id))],
    cursor: previous.cursor,
    hasMore: previous.hasMore,
  };
}

/**
 * Appends an older page. Cursors count from the newest entry, so entries that arrived since
 * shift the page and some of its entries are already shown: they are skipped by id.
 */
export function appendOlderPage(previous: History, page: History): History {
  const seen = new Set(previous.entries.map((e) => e.id));
  return {
    entries: [...previous.entries, ...page.entries.filter((e) => !seen.has(e.id))],
    cursor: page.cursor ?? previous.cursor,
    hasMore: page.hasMore,
  };
}

/**
 * The live events still worth showing above the history: those that arrived after the last
 * first-page request started (earlier ones are in that page, or older than it after a gap),
 * minus those whose entry the history already holds.
 *
 * An event that names its entry (`entryId`) is hidden whenever a loaded page holds that entry,
 * whenever the event arrived: the socket may deliver it after the page that already reads it.
 * Events without an id (a job's release or expiry, redemption events, enrolment, tier moves)
 * fall back to a guess: only those that arrived while the first page was in flight can be in
 * it, a match is the same account, points and reason, and each entry matches one event at most.
 */
export function visibleLive(
  live: readonly LiveItem[],
  cutoff: number,
  inFlightUntil: number,
  firstPage: readonly HistoryEntry[],
  loaded: readonly HistoryEntry[],
): LiveItem[] {
  const held = new Set(loaded.map((e) => e.id));
  const unclaimed = [...firstPage];
  return live.filter((item) => {
    if (item.seq <= cutoff) return false;
    const { event } = item;
    if (event.entryId) return !held.has(event.entryId);
    if (item.seq > inFlightUntil) return true;
    const at = unclaimed.findIndex((e) => e.account.id === event.account.id && e.points === event.points && e.reason === event.reason);
    if (at < 0) return true;
    unclaimed.splice(at, 1);
    return false;
  });
}

const KIND_COLORS: Record<string, string> = {
  earn: 'teal',
  bonus: 'green',
  release: 'cyan',
  reverse: 'orange',
  redeem: 'blue',
  refund: 'indigo',
  expire: 'red',
  adjust: 'grape',
  enrolled: 'lime',
  tier: 'yellow',
};

/** What one feed row shows, whether it came live or from the ledger history. */
interface Row {
  key: string;
  source: 'live' | 'history';
  kind: string;
  points: number;
  reason: string;
  at: string;
  accountId: string;
  name: string;
  available: number;
  pending: number;
  tier: { name: string; color: string } | null;
  adjustedBy: string | null;
}

function liveRow({ seq, receivedAt, event }: LiveItem): Row {
  return {
    key: `live-${seq}`,
    source: 'live',
    kind: event.kind.toLowerCase(),
    points: event.points,
    reason: event.reason,
    at: receivedAt,
    accountId: event.account.id,
    name: event.account.member.displayName,
    available: event.account.pointsAvailable,
    pending: event.account.pointsPending,
    tier: event.tierChanged && event.account.tier ? event.account.tier : null,
    adjustedBy: null,
  };
}

function historyRow(entry: HistoryEntry): Row {
  return {
    key: entry.id,
    source: 'history',
    kind: entry.kind.toLowerCase(),
    points: entry.points,
    reason: entry.reason,
    at: entry.createdAt,
    accountId: entry.account.id,
    name: entry.account.member.displayName,
    available: entry.availableAfter,
    pending: entry.pendingAfter,
    tier: null,
    adjustedBy: entry.kind === 'ADJUST' ? (entry.adjustedBy ?? null) : null,
  };
}

function toHistory(data: ConsoleActivityQuery | undefined): History | null {
  const page = data?.shop?.activity;
  if (!page) return null;
  return { entries: page.edges.map((e) => e.node), cursor: page.pageInfo.endCursor ?? null, hasMore: page.pageInfo.hasNextPage };
}

/**
 * The shop's points activity, newest first: the ledger history (`shop.activity`, paged with
 * "Load older") under the live events (`shopActivity`) that arrived since it was loaded.
 * Events sent while the socket was down or the feed paused are lost, so a reconnect or a
 * resume reloads the first page.
 */
export function ActivityPage() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const client = useClient();
  const [paused, setPaused] = useState(false);
  const [openId, setOpenId] = useState<string | null>(null);

  const seq = useRef(0);
  const [live, setLive] = useState<LiveItem[]>([]);
  const [liveError, setLiveError] = useState<CombinedError>();
  useEffect(() => {
    if (paused) return;
    const { unsubscribe } = client.subscription(ShopActivitySubscription, { shopId: shop.id }).subscribe((result) => {
      if (result.error) {
        setLiveError(result.error);
        return;
      }
      const event = result.data?.shopActivity;
      if (!event) return;
      setLiveError(undefined);
      seq.current += 1;
      const item: LiveItem = { seq: seq.current, receivedAt: new Date().toISOString(), event };
      setLive((feed) => [item, ...feed].slice(0, FEED_LIMIT));
    });
    return unsubscribe;
  }, [client, shop.id, paused]);

  const [history, setHistory] = useState<History | null>(null);
  const [firstPage, setFirstPage] = useState<HistoryEntry[]>([]);
  const [liveWindow, setLiveWindow] = useState({ cutoff: 0, inFlightUntil: 0 });
  const [historyError, setHistoryError] = useState<CombinedError>();
  const [loadingFirst, setLoadingFirst] = useState(true);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const firstRequest = useRef(0);

  const loadFirst = useCallback(async () => {
    const request = ++firstRequest.current;
    const startedAt = seq.current;
    setLoadingFirst(true);
    const result = await client
      .query(ActivityQuery, { slug: shop.slug, first: PAGE_SIZE, after: null }, { requestPolicy: 'network-only' })
      .toPromise();
    // A newer reload (reconnect, resume) supersedes this one.
    if (request !== firstRequest.current) return;
    setLoadingFirst(false);
    const page = toHistory(result.data);
    if (result.error || !page) {
      setHistoryError(result.error);
      return;
    }
    setHistoryError(undefined);
    setHistory((previous) => mergeFirstPage(previous, page));
    setFirstPage(page.entries);
    setLiveWindow({ cutoff: startedAt, inFlightUntil: seq.current });
  }, [client, shop.slug]);

  useEffect(() => {
    setHistory(null);
    void loadFirst();
  }, [loadFirst]);
  useRefetchOnReconnect(() => void loadFirst());

  const loadOlder = async () => {
    if (!history?.cursor) return;
    setLoadingOlder(true);
    const result = await client
      .query(ActivityQuery, { slug: shop.slug, first: PAGE_SIZE, after: history.cursor }, { requestPolicy: 'network-only' })
      .toPromise();
    setLoadingOlder(false);
    const page = toHistory(result.data);
    if (result.error || !page) {
      setHistoryError(result.error);
      return;
    }
    setHistoryError(undefined);
    setHistory((previous) => (previous ? appendOlderPage(previous, page) : page));
  };

  const togglePause = () => {
    if (paused) void loadFirst();
    setPaused(!paused);
  };

  const rows: Row[] = [
    ...visibleLive(live, liveWindow.cutoff, liveWindow.inFlightUntil, firstPage, history?.entries ?? []).map(liveRow),
    ...(history?.entries ?? []).map(historyRow),
  ];

  return (
    <Stack>
      <PageHeader title={t('activity.title')} hint={t('activity.hint')}>
        <Group gap="xs">
          <Badge color={paused ? 'gray' : liveError ? 'red' : 'green'} variant="dot" role="status">
            {paused ? t('activity.paused') : liveError ? t('activity.offline') : t('activity.live')}
          </Badge>
          <Button
            size="xs"
            variant="default"
            leftSection={paused ? <IconPlayerPlay size={14} /> : <IconPlayerPause size={14} />}
            onClick={togglePause}
          >
            {paused ? t('activity.resume') : t('activity.pause')}
          </Button>
        </Group>
      </PageHeader>
      <ErrorAlert error={liveError} />
      {historyError ? (
        <Stack gap="xs">
          <ErrorAlert error={historyError} title={t('activity.historyFailed')} />
          <Group>
            <Button size="xs" variant="light" leftSection={<IconRefresh size={14} />} onClick={() => void loadFirst()}>
              {t('activity.retry')}
            </Button>
          </Group>
        </Stack>
      ) : null}
      {rows.length === 0 ? (
        loadingFirst ? (
          <PageLoader />
        ) : (
          <EmptyPanel title={t('activity.empty')} description={t('activity.emptyHint')} />
        )
      ) : (
        <Stack gap="xs" component="ol" aria-live="polite" aria-label={t('activity.feed')} style={{ listStyle: 'none', padding: 0, margin: 0 }}>
          {rows.map((row) => (
            <Paper
              key={row.key}
              component="li"
              withBorder
              p="xs"
              data-testid="activity-item"
              data-kind={row.kind}
              data-source={row.source}
              style={row.source === 'live' ? { borderInlineStartWidth: 3, borderInlineStartColor: 'var(--mantine-color-green-6)' } : undefined}
            >
              <Group justify="space-between" wrap="nowrap" align="flex-start">
                <Stack gap={2} style={{ minWidth: 0 }}>
                  <Group gap="xs">
                    <Badge color={KIND_COLORS[row.kind] ?? 'gray'} variant="light" size="sm">
                      {t(`kinds.${row.kind}`, { defaultValue: row.kind })}
                    </Badge>
                    <Anchor component="button" type="button" size="sm" fw={500} onClick={() => setOpenId(row.accountId)}>
                      {row.name || t('members.anonymous')}
                    </Anchor>
                    {row.tier ? (
                      <Badge color={row.tier.color} autoContrast size="sm">
                        {t('activity.nowTier', { name: row.tier.name })}
                      </Badge>
                    ) : null}
                  </Group>
                  <Text size="sm" c="dimmed" lineClamp={2}>
                    {row.reason}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {formatDateTime(row.at)} ·{' '}
                    {t('activity.balance', { available: formatPoints(row.available), pending: formatPoints(row.pending) })}
                    {row.adjustedBy ? ` · ${t('member.adjustedBy', { user: row.adjustedBy })}` : ''}
                  </Text>
                </Stack>
                {row.points !== 0 ? (
                  // ltr keeps the sign before the digits in Persian too, as Intl does for minus.
                  <Text fw={700} c={row.points < 0 ? 'red' : 'green'} style={{ whiteSpace: 'nowrap' }} dir="ltr">
                    {row.points > 0 ? '+' : ''}
                    {formatPoints(row.points)}
                  </Text>
                ) : null}
              </Group>
            </Paper>
          ))}
        </Stack>
      )}
      {history?.hasMore ? (
        <Center>
          <Button variant="light" loading={loadingOlder} onClick={() => void loadOlder()}>
            {t('activity.loadOlder')}
          </Button>
        </Center>
      ) : history && history.entries.length > 0 ? (
        <Text size="xs" c="dimmed" ta="center">
          {t('activity.start')}
        </Text>
      ) : null}
      <MemberDrawer accountId={openId} onClose={() => setOpenId(null)} />
    </Stack>
  );
}

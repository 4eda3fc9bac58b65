import { useEffect, useMemo, useRef, useState } from 'react';
import {
  Anchor,
  Button,
  Checkbox,
  CloseButton,
  Group,
  MultiSelect,
  Paper,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconChevronLeft, IconChevronRight, IconRefresh, IconSearch, IconX } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { SubscriptionBulkActionKind, SubscriptionStatus } from '../gql/graphql';
import { formatDate, formatDateTime, formatMoney, formatPercent, formatPoints } from '../lib/format';
import { ConfirmDialog, EditorOnly, EmptyPanel, ErrorAlert, GeneralErrors, PageHeader, PageLoader, useConsoleShop } from './shared';
import {
  SUBSCRIPTION_STATUSES,
  SubscriptionDrawer,
  SubscriptionStatusBadge,
  useActionErrors,
  type OpenSubscription,
} from './SubscriptionsDrawer';

const FiguresQuery = graphql(`
  query ConsoleMembershipFigures($slug: String!, $days: Int!) {
    shop(slug: $slug) {
      id
      membershipFigures(days: $days) {
        currency
        days
        activeSubscribers
        trialing
        pastDue
        mrr
        churned
        churnRate
        revenue
        plans {
          plan {
            id
            name
          }
          subscribers
          revenue
        }
      }
    }
  }
`);

const SubscriptionsQuery = graphql(`
  query ConsoleSubscriptions(
    $slug: String!
    $statuses: [SubscriptionStatus!]
    $planId: ID
    $search: String!
    $first: Int!
    $after: String
  ) {
    shop(slug: $slug) {
      id
      allMembershipPlans {
        id
        name
      }
      subscriptions(statuses: $statuses, planId: $planId, search: $search, first: $first, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          cursor
          node {
            id
            status
            autoRenew
            cancelAtPeriodEnd
            currentPeriodEnd
            nextChargeAt
            plan {
              id
              name
            }
            member {
              id
              member {
                displayName
                email
                phone
              }
            }
          }
        }
      }
    }
  }
`);

const BulkStartMutation = graphql(`
  mutation ConsoleSubscriptionsBulkStart($shopId: ID!, $kind: SubscriptionBulkActionKind!, $subscriptionIds: [ID!]!) {
    subscriptionsBulkStart(shopId: $shopId, kind: $kind, subscriptionIds: $subscriptionIds) {
      action {
        id
        kind
        total
        done
        changed
        finishedAt
        failures {
          subscriptionId
          code
          message
        }
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const BulkActionQuery = graphql(`
  query ConsoleSubscriptionBulkAction($slug: String!, $id: ID!) {
    shop(slug: $slug) {
      id
      subscriptionBulkAction(id: $id) {
        id
        kind
        total
        done
        changed
        createdAt
        finishedAt
        failures {
          subscriptionId
          code
          message
        }
      }
    }
  }
`);

const PAGE_SIZE = 20;
const FIGURE_DAYS = 30;
const BULK_KINDS: SubscriptionBulkActionKind[] = ['ENABLE_AUTO_RENEW', 'DISABLE_AUTO_RENEW', 'RETRY_NOW', 'CANCEL'];

/** The subscriptions table's filters. */
export interface SubscriptionFilters {
  statuses: SubscriptionStatus[];
  planId: string | null;
  search: string;
}

/** The query variables of the filters: no statuses chosen means every status. */
export function subscriptionVariables(f: SubscriptionFilters) {
  return {
    statuses: f.statuses.length > 0 ? f.statuses : null,
    planId: f.planId || null,
    search: f.search.trim(),
  };
}

/**
 * Paid memberships: figures of the last 30 days, the filterable subscriptions table with bulk
 * actions, and a drawer with one subscription's history, payments and actions.
 * `pollInterval` is how often a running bulk action is asked for its progress.
 */
export function SubscriptionsPage({ pollInterval = 1000 }: { pollInterval?: number }) {
  return (
    <EditorOnly>
      <Subscriptions pollInterval={pollInterval} />
    </EditorOnly>
  );
}

function Subscriptions({ pollInterval }: { pollInterval: number }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const actionErrors = useActionErrors();
  const [filters, setFilters] = useState<SubscriptionFilters>({ statuses: [], planId: null, search: '' });
  const [debouncedSearch] = useDebouncedValue(filters.search, 300);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<OpenSubscription | null>(null);
  const [bulkId, setBulkId] = useState<string | null>(null);
  const [bulkRunning, setBulkRunning] = useState(false);
  const [bulkErrors, setBulkErrors] = useState<string[]>([]);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [bulkState, bulkStart] = useMutation(BulkStartMutation);

  const [figures, refetchFigures] = useQuery({
    query: FiguresQuery,
    variables: { slug: shop.slug, days: FIGURE_DAYS },
    requestPolicy: 'cache-and-network',
  });
  const variables = useMemo(
    () => ({ slug: shop.slug, ...subscriptionVariables({ ...filters, search: debouncedSearch }), first: PAGE_SIZE, after: cursors[cursors.length - 1] }),
    [shop.slug, filters, debouncedSearch, cursors],
  );
  const [{ data, fetching, error }, refetch] = useQuery({ query: SubscriptionsQuery, variables, requestPolicy: 'cache-and-network' });
  const connection = data?.shop?.subscriptions;
  const rows = connection?.edges ?? [];
  const lastPlans = useRef<readonly { id: string; name: string }[]>([]);
  if (data?.shop?.allMembershipPlans) lastPlans.current = data.shop.allMembershipPlans;
  const plans = lastPlans.current;

  // Names of the subscriptions seen, for the failures of a bulk action.
  const names = useRef(new Map<string, string>());
  const nameOf = (node: (typeof rows)[number]['node']) => node.member.member.displayName || node.member.member.email || t('subscriptions.anonymous');
  for (const { node } of rows) names.current.set(node.id, nameOf(node));

  const setFilter = <K extends keyof SubscriptionFilters>(key: K, value: SubscriptionFilters[K]) => {
    setFilters((f) => ({ ...f, [key]: value }));
    setCursors([null]);
    setSelected(new Set());
  };

  const refresh = () => {
    refetch({ requestPolicy: 'network-only' });
    refetchFigures({ requestPolicy: 'network-only' });
  };

  const startBulk = async (kind: SubscriptionBulkActionKind) => {
    setConfirmCancel(false);
    setBulkErrors([]);
    const result = await bulkStart({ shopId: shop.id, kind, subscriptionIds: [...selected] });
    const payload = result.data?.subscriptionsBulkStart;
    if (result.error || !payload?.action || payload.errors.length > 0) {
      setBulkErrors(actionErrors(result.error, payload?.errors));
      return;
    }
    setBulkRunning(!payload.action.finishedAt);
    setBulkId(payload.action.id);
  };

  const pageIds = rows.map((r) => r.node.id);
  const allOnPage = pageIds.length > 0 && pageIds.every((id) => selected.has(id));
  const someOnPage = pageIds.some((id) => selected.has(id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const page = cursors.length;
  const f = figures.data?.shop?.membershipFigures;

  return (
    <Stack>
      <PageHeader
        title={t('subscriptions.title')}
        hint={connection?.totalCount != null ? t('subscriptions.total', { count: connection.totalCount, n: formatPoints(connection.totalCount) }) : t('subscriptions.hint')}
      />
      {figures.error && !f ? <ErrorAlert error={figures.error} /> : null}
      {f ? (
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }} spacing="sm">
            <Tile id="active" label={t('subscriptions.figures.active')} value={formatPoints(f.activeSubscribers)} />
            <Tile id="trialing" label={t('subscriptions.figures.trialing')} value={formatPoints(f.trialing)} />
            <Tile id="pastDue" label={t('subscriptions.figures.pastDue')} value={formatPoints(f.pastDue)} />
            <Tile id="mrr" label={t('subscriptions.figures.mrr')} value={formatMoney(f.mrr, f.currency)} />
            <Tile
              id="churn"
              label={t('subscriptions.figures.churn', { n: formatPoints(f.days) })}
              value={f.churnRate != null ? formatPercent(f.churnRate) : '—'}
              hint={t('subscriptions.figures.churned', { count: f.churned, n: formatPoints(f.churned) })}
            />
            <Tile id="revenue" label={t('subscriptions.figures.revenue', { n: formatPoints(f.days) })} value={formatMoney(f.revenue, f.currency)} />
          </SimpleGrid>
          {f.plans.length > 0 ? (
            <Paper withBorder p="sm">
              <Table verticalSpacing={4} data-testid="plan-figures">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('subscriptions.columns.plan')}</Table.Th>
                    <Table.Th ta="end">{t('subscriptions.figures.subscribers')}</Table.Th>
                    <Table.Th ta="end">{t('subscriptions.figures.revenue', { n: formatPoints(f.days) })}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {f.plans.map((p) => (
                    <Table.Tr key={p.plan.id}>
                      <Table.Td>{p.plan.name}</Table.Td>
                      <Table.Td ta="end">{formatPoints(p.subscribers)}</Table.Td>
                      <Table.Td ta="end">{formatMoney(p.revenue, f.currency)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Paper>
          ) : null}
        </Stack>
      ) : null}
      <Paper withBorder p="sm">
        <Group align="flex-end" gap="sm">
          <TextInput
            style={{ flex: '1 1 220px' }}
            label={t('subscriptions.search')}
            placeholder={t('subscriptions.searchPlaceholder')}
            leftSection={<IconSearch size={16} />}
            value={filters.search}
            onChange={(e) => setFilter('search', e.currentTarget.value)}
            maxLength={100}
            type="search"
          />
          <MultiSelect
            style={{ flex: '1 1 240px' }}
            label={t('subscriptions.statusFilter')}
            placeholder={filters.statuses.length ? undefined : t('subscriptions.anyStatus')}
            data={SUBSCRIPTION_STATUSES.map((s) => ({ value: s, label: t(`subscriptionStatus.${s}`) }))}
            value={filters.statuses}
            clearable
            onChange={(v) => setFilter('statuses', v as SubscriptionStatus[])}
          />
          <Select
            style={{ flex: '0 1 220px' }}
            label={t('subscriptions.planFilter')}
            placeholder={t('subscriptions.anyPlan')}
            data={plans.map((p) => ({ value: p.id, label: p.name }))}
            value={filters.planId}
            clearable
            onChange={(v) => setFilter('planId', v)}
          />
        </Group>
      </Paper>
      <Paper withBorder p="sm">
        <Stack gap="xs">
          <Group gap="xs">
            <Text size="sm" c="dimmed" data-testid="subscriptions-selected">
              {t('subscriptions.bulk.selected', { count: selected.size, n: formatPoints(selected.size) })}
            </Text>
            {BULK_KINDS.map((kind) => (
              <Button
                key={kind}
                size="xs"
                variant="light"
                color={kind === 'CANCEL' ? 'red' : undefined}
                disabled={selected.size === 0 || bulkRunning}
                loading={bulkState.fetching}
                onClick={() => (kind === 'CANCEL' ? setConfirmCancel(true) : void startBulk(kind))}
              >
                {t(`subscriptions.bulk.kinds.${kind}`)}
              </Button>
            ))}
          </Group>
          <GeneralErrors messages={bulkErrors} />
          {bulkId ? (
            <BulkProgress
              key={bulkId}
              actionId={bulkId}
              pollInterval={pollInterval}
              nameOf={(id) => names.current.get(id) ?? id}
              onFinished={() => {
                setBulkRunning(false);
                setSelected(new Set());
                refresh();
              }}
              onDismiss={() => setBulkId(null)}
            />
          ) : null}
        </Stack>
      </Paper>
      {error ? <ErrorAlert error={error} /> : null}
      {!data && fetching ? <PageLoader /> : null}
      {connection && rows.length === 0 ? <EmptyPanel title={t('subscriptions.empty')} description={t('subscriptions.emptyHint')} /> : null}
      {rows.length > 0 ? (
        <Table.ScrollContainer minWidth={900}>
          <Table striped highlightOnHover verticalSpacing="xs" aria-busy={fetching}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <Checkbox
                    aria-label={t('subscriptions.selectPage')}
                    checked={allOnPage}
                    indeterminate={someOnPage && !allOnPage}
                    onChange={() =>
                      setSelected((s) => {
                        const next = new Set(s);
                        for (const id of pageIds) {
                          if (allOnPage) next.delete(id);
                          else next.add(id);
                        }
                        return next;
                      })
                    }
                  />
                </Table.Th>
                <Table.Th>{t('subscriptions.columns.member')}</Table.Th>
                <Table.Th>{t('subscriptions.columns.plan')}</Table.Th>
                <Table.Th>{t('subscriptions.columns.status')}</Table.Th>
                <Table.Th>{t('subscriptions.columns.periodEnd')}</Table.Th>
                <Table.Th>{t('subscriptions.columns.nextCharge')}</Table.Th>
                <Table.Th>{t('subscriptions.columns.autoRenew')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map(({ node }) => {
                const name = nameOf(node);
                const openThis = () => setOpen({ id: node.id, accountId: node.member.id, name });
                return (
                  <Table.Tr key={node.id} data-testid="subscription-row" data-subscription-id={node.id} style={{ cursor: 'pointer' }} onClick={openThis}>
                    <Table.Td onClick={(e) => e.stopPropagation()}>
                      <Checkbox
                        aria-label={t('subscriptions.selectRow', { name })}
                        checked={selected.has(node.id)}
                        onChange={() => toggle(node.id)}
                      />
                    </Table.Td>
                    <Table.Td>
                      <Anchor
                        component="button"
                        type="button"
                        fw={500}
                        ta="start"
                        onClick={(e) => {
                          e.stopPropagation();
                          openThis();
                        }}
                      >
                        {name}
                      </Anchor>
                      <Text size="xs" c="dimmed" truncate maw={240}>
                        {node.member.member.email || node.member.member.phone}
                      </Text>
                    </Table.Td>
                    <Table.Td>{node.plan.name}</Table.Td>
                    <Table.Td>
                      <SubscriptionStatusBadge status={node.status} />
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{node.currentPeriodEnd ? formatDate(node.currentPeriodEnd) : '—'}</Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{node.nextChargeAt ? formatDateTime(node.nextChargeAt) : '—'}</Table.Td>
                    <Table.Td>
                      {node.autoRenew ? t('subscriptions.yes') : t('subscriptions.no')}
                      {node.cancelAtPeriodEnd ? (
                        <Text size="xs" c="orange">
                          {t('subscriptions.endsAtPeriodEnd')}
                        </Text>
                      ) : null}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : null}
      {connection && (page > 1 || connection.pageInfo.hasNextPage) ? (
        <Group justify="space-between" component="nav" aria-label={t('subscriptions.paging')}>
          <Button
            variant="default"
            leftSection={<IconChevronLeft size={16} />}
            disabled={page === 1 || fetching}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            {t('common.previous')}
          </Button>
          <Text size="sm" c="dimmed">
            {t('subscriptions.page', { n: formatPoints(page) })}
          </Text>
          <Button
            variant="default"
            rightSection={<IconChevronRight size={16} />}
            disabled={!connection.pageInfo.hasNextPage || fetching}
            onClick={() => setCursors((c) => [...c, connection.pageInfo.endCursor ?? null])}
          >
            {t('common.next')}
          </Button>
        </Group>
      ) : null}
      <SubscriptionDrawer subscription={open} onClose={() => setOpen(null)} onChanged={refresh} />
      <ConfirmDialog
        opened={confirmCancel}
        title={t('subscriptions.cancelTitle')}
        message={t('subscriptions.bulk.cancelConfirm', { count: selected.size, n: formatPoints(selected.size) })}
        confirmLabel={t('subscriptions.bulk.kinds.CANCEL')}
        loading={bulkState.fetching}
        onConfirm={() => void startBulk('CANCEL')}
        onClose={() => setConfirmCancel(false)}
      />
    </Stack>
  );
}

function Tile({ id, label, value, hint }: { id: string; label: string; value: string; hint?: string }) {
  return (
    <Paper withBorder p="sm" data-testid={`figure-${id}`}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700} size="lg">
        {value}
      </Text>
      {hint ? (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      ) : null}
    </Paper>
  );
}

/** A running (or finished) bulk action, asked for its progress every `pollInterval` ms until it finishes. */
function BulkProgress({
  actionId,
  pollInterval,
  nameOf,
  onFinished,
  onDismiss,
}: {
  actionId: string;
  pollInterval: number;
  nameOf: (subscriptionId: string) => string;
  onFinished: () => void;
  onDismiss: () => void;
}) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }, poll] = useQuery({
    query: BulkActionQuery,
    variables: { slug: shop.slug, id: actionId },
    requestPolicy: 'network-only',
  });
  const action = data?.shop?.subscriptionBulkAction;
  const finished = Boolean(action?.finishedAt);
  const reported = useRef(false);

  useEffect(() => {
    if (fetching || !action) return;
    if (finished) {
      if (!reported.current) {
        reported.current = true;
        onFinished();
      }
      return;
    }
    const timer = setTimeout(() => poll({ requestPolicy: 'network-only' }), pollInterval);
    return () => clearTimeout(timer);
  }, [data, fetching, finished, pollInterval]);

  if (error && !action) return <ErrorAlert error={error} />;
  if (!action) return <PageLoader />;
  const percent = action.total > 0 ? (action.done / action.total) * 100 : 0;
  return (
    <Stack gap={6} data-testid="bulk-progress" data-finished={finished ? 'true' : 'false'}>
      <Group justify="space-between">
        <Group gap="xs">
          {finished ? null : <IconRefresh size={14} aria-hidden />}
          <Text size="sm" fw={500}>
            {t(`subscriptions.bulk.kinds.${action.kind}`)} —{' '}
            {finished ? t('subscriptions.bulk.finished') : t('subscriptions.bulk.running')}
          </Text>
        </Group>
        {finished ? <CloseButton size="sm" aria-label={t('common.dismiss')} onClick={onDismiss} icon={<IconX size={14} />} /> : null}
      </Group>
      <Progress value={percent} animated={!finished} aria-label={t('subscriptions.bulk.progress')} />
      <Text size="sm" data-testid="bulk-counts">
        {t('subscriptions.bulk.counts', {
          done: formatPoints(action.done),
          total: formatPoints(action.total),
          changed: formatPoints(action.changed),
        })}
      </Text>
      {action.failures.length > 0 ? (
        <Stack gap={2} data-testid="bulk-failures">
          <Title order={5}>{t('subscriptions.bulk.failures', { count: action.failures.length, n: formatPoints(action.failures.length) })}</Title>
          {action.failures.map((failure) => (
            <Text key={failure.subscriptionId} size="sm" c="red">
              {nameOf(failure.subscriptionId)}: {t(`errorCodes.${failure.code}`, { defaultValue: failure.code })} — {failure.message}
            </Text>
          ))}
        </Stack>
      ) : null}
    </Stack>
  );
}

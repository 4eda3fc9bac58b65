import { useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import {
  Anchor,
  Badge,
  Button,
  Collapse,
  Group,
  NumberInput,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { DateInput } from '@mantine/dates';
import { useDebouncedValue, useDisclosure } from '@mantine/hooks';
import { IconAdjustments, IconChevronLeft, IconChevronRight, IconPencilPlus, IconSearch } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { MemberFilterInput, MemberStatus } from '../gql/graphql';
import { formatDate, formatMoney, formatPoints } from '../lib/format';
import { AdjustDialog } from './AdjustDialog';
import { MemberDrawer } from './MemberDrawer';
import { MemberTags, StatusBadge } from './MemberDrawer';
import { EmptyPanel, ErrorAlert, PageLoader, errorCode, toDecimal, toInt, useConsoleShop } from './shared';
import { localToIso, nextDay } from './time';

const MembersQuery = graphql(`
  query ConsoleMembers($slug: String!, $filter: MemberFilterInput, $orderBy: String!, $first: Int!, $after: String) {
    shop(slug: $slug) {
      id
      program {
        id
        tiers {
          id
          name
          color
        }
      }
      segments {
        id
        name
      }
      members(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          cursor
          node {
            id
            pointsAvailable
            pointsPending
            lifetimePoints
            enrolledAt
            lastActivityAt
            status
            stats {
              visits
              totalSpend
              lastVisitAt
            }
            tags {
              tag
              source
              reason
            }
            member {
              displayName
              email
              phone
            }
            tier {
              id
              name
              color
            }
          }
        }
      }
    }
  }
`);

const PAGE_SIZE = 20;
const ORDERS = [
  '-joined',
  'joined',
  '-available',
  'available',
  '-lifetime',
  'lifetime',
  '-last_activity',
  'last_activity',
  '-visits',
  'visits',
  '-spend',
  'spend',
  '-last_visit',
  'last_visit',
];
const STATUSES: MemberStatus[] = ['ACTIVE', 'INACTIVE', 'BLOCKED'];

/** The members table's filter inputs (dates are local days in the shop's time zone). */
export interface MemberFilters {
  tierId: string | null;
  joinedFrom: string | null;
  joinedTo: string | null;
  balanceMin: number | string;
  balanceMax: number | string;
  activeFrom: string | null;
  activeTo: string | null;
  search: string;
  /** Customer-record filters (optional so that callers of the older shape keep working). */
  segmentId?: string | null;
  tag?: string;
  status?: string | null;
  visitsMin?: number | string;
  visitsMax?: number | string;
  spendMin?: number | string;
  spendMax?: number | string;
  lastVisitDaysMin?: number | string;
}

const EMPTY_FILTERS: MemberFilters = {
  tierId: null,
  joinedFrom: null,
  joinedTo: null,
  balanceMin: '',
  balanceMax: '',
  activeFrom: null,
  activeTo: null,
  search: '',
  segmentId: null,
  tag: '',
  status: null,
  visitsMin: '',
  visitsMax: '',
  spendMin: '',
  spendMax: '',
  lastVisitDaysMin: '',
};

/** `MemberFilterInput` of the inputs; "to" days are inclusive, so they end at the next midnight. */
export function memberFilter(f: MemberFilters, timeZone: string): MemberFilterInput {
  return {
    tierId: f.tierId || null,
    joinedAfter: localToIso(f.joinedFrom, timeZone),
    joinedBefore: f.joinedTo ? localToIso(nextDay(f.joinedTo.slice(0, 10)), timeZone) : null,
    balanceMin: toInt(f.balanceMin),
    balanceMax: toInt(f.balanceMax),
    lastActivityAfter: localToIso(f.activeFrom, timeZone),
    lastActivityBefore: f.activeTo ? localToIso(nextDay(f.activeTo.slice(0, 10)), timeZone) : null,
    search: f.search.trim() || null,
    segmentId: f.segmentId || null,
    tag: (f.tag ?? '').trim().toLowerCase() || null,
    statuses: f.status ? [f.status as MemberStatus] : null,
    visitsMin: toInt(f.visitsMin),
    visitsMax: toInt(f.visitsMax),
    totalSpendMin: toDecimal(f.spendMin),
    totalSpendMax: toDecimal(f.spendMax),
    lastVisitDaysMin: toInt(f.lastVisitDaysMin),
  };
}

/** API filter names (from `extensions.fields`) to the inputs that set them. */
const FILTER_INPUT: Record<string, keyof MemberFilters> = {
  tierId: 'tierId',
  joinedAfter: 'joinedFrom',
  joinedBefore: 'joinedTo',
  balanceMin: 'balanceMin',
  balanceMax: 'balanceMax',
  lastActivityAfter: 'activeFrom',
  lastActivityBefore: 'activeTo',
  search: 'search',
  segmentId: 'segmentId',
  tag: 'tag',
  statuses: 'status',
  visitsMin: 'visitsMin',
  visitsMax: 'visitsMax',
  totalSpendMin: 'spendMin',
  totalSpendMax: 'spendMax',
  lastVisitDaysMin: 'lastVisitDaysMin',
};

/** Members table with filters, ordering and cursor paging; a row opens the member's detail. */
export function MembersPage() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [searchParams] = useSearchParams();
  // "Show members" of a segment opens this page with ?segment=<id>.
  const [filters, setFilters] = useState<MemberFilters>(() => ({ ...EMPTY_FILTERS, segmentId: searchParams.get('segment') }));
  const [debouncedSearch] = useDebouncedValue(filters.search, 300);
  const [debouncedTag] = useDebouncedValue(filters.tag, 300);
  const [orderBy, setOrderBy] = useState('-joined');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [openId, setOpenId] = useState<string | null>(null);
  const [adjusting, setAdjusting] = useState<{ id: string; name: string; available: number } | null>(null);
  const [filtersOpen, { toggle: toggleFilters }] = useDisclosure(searchParams.has('segment'));

  const filter = useMemo(
    () => memberFilter({ ...filters, search: debouncedSearch, tag: debouncedTag }, shop.timezone),
    [filters, debouncedSearch, debouncedTag, shop.timezone],
  );
  const after = cursors[cursors.length - 1];
  const [{ data, fetching, error }, refetch] = useQuery({
    query: MembersQuery,
    variables: { slug: shop.slug, filter, orderBy, first: PAGE_SIZE, after },
    requestPolicy: 'cache-and-network',
  });
  const connection = data?.shop?.members;
  // A refused filter answers without the shop: keep offering the tiers seen last.
  const lastTiers = useRef<readonly { id: string; name: string }[]>([]);
  if (data?.shop?.program?.tiers) lastTiers.current = data.shop.program.tiers;
  const tiers = lastTiers.current;
  const lastSegments = useRef<readonly { id: string; name: string }[]>([]);
  if (data?.shop?.segments) lastSegments.current = data.shop.segments;
  const segments = lastSegments.current;

  const setFilter = <K extends keyof MemberFilters>(key: K, value: MemberFilters[K]) => {
    setFilters((f) => ({ ...f, [key]: value }));
    setCursors([null]);
  };

  // INVALID_INPUT names the bad filters in extensions.fields (a list or a field→message map).
  const badFields = useMemo(() => {
    const out: Partial<Record<keyof MemberFilters, string>> = {};
    if (errorCode(error) !== 'INVALID_INPUT') return out;
    const ext = error?.graphQLErrors[0]?.extensions ?? {};
    const fields = (ext.fields ?? (ext.field ? [ext.field] : [])) as unknown;
    const entries: [string, string][] = Array.isArray(fields)
      ? fields.map((f) => [String(f), t('members.badFilter')])
      : Object.entries((fields ?? {}) as Record<string, unknown>).map(([k, v]) => [k, Array.isArray(v) ? v.join(' ') : String(v)]);
    for (const [api, message] of entries) {
      const input = FILTER_INPUT[api];
      if (input) out[input] = message;
    }
    return out;
  }, [error, t]);

  const activeFilterCount = Object.entries(filters).filter(([k, v]) => k !== 'search' && v !== null && v !== '').length;
  const page = cursors.length;
  const rows = connection?.edges ?? [];

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>{t('members.title')}</Title>
          {connection?.totalCount != null ? (
            <Text size="sm" c="dimmed" data-testid="members-total" data-value={connection.totalCount}>
              {t('members.total', { count: connection.totalCount, n: formatPoints(connection.totalCount) })}
            </Text>
          ) : null}
        </div>
      </Group>
      <Paper withBorder p="sm">
        <Stack gap="sm">
          <Group align="flex-end" gap="sm">
            <TextInput
              style={{ flex: '1 1 220px' }}
              label={t('members.search')}
              placeholder={t('members.searchPlaceholder')}
              leftSection={<IconSearch size={16} />}
              value={filters.search}
              error={badFields.search}
              onChange={(e) => setFilter('search', e.currentTarget.value)}
              maxLength={100}
              type="search"
            />
            <Select
              style={{ flex: '0 1 220px' }}
              label={t('members.orderBy')}
              data={ORDERS.map((o) => ({ value: o, label: t(`members.order.${o}`) }))}
              value={orderBy}
              allowDeselect={false}
              onChange={(v) => {
                setOrderBy(v ?? '-joined');
                setCursors([null]);
              }}
            />
            <Button
              variant={filtersOpen ? 'filled' : 'light'}
              leftSection={<IconAdjustments size={16} />}
              onClick={toggleFilters}
              aria-expanded={filtersOpen}
              aria-controls="member-filters"
            >
              {t('members.filters')}
              {activeFilterCount ? ` (${formatPoints(activeFilterCount)})` : ''}
            </Button>
          </Group>
          <Collapse expanded={filtersOpen} id="member-filters">
            <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="sm">
              <Select
                label={t('members.segment')}
                placeholder={t('members.anySegment')}
                data={segments.map((x) => ({ value: x.id, label: x.name }))}
                value={filters.segmentId}
                error={badFields.segmentId}
                clearable
                searchable
                onChange={(v) => setFilter('segmentId', v)}
              />
              <TextInput
                label={t('members.tag')}
                placeholder={t('members.anyTag')}
                value={filters.tag}
                error={badFields.tag}
                maxLength={40}
                onChange={(e) => setFilter('tag', e.currentTarget.value)}
              />
              <Select
                label={t('members.status')}
                placeholder={t('members.anyStatus')}
                data={STATUSES.map((x) => ({ value: x, label: t(`memberStatus.${x}`) }))}
                value={filters.status}
                error={badFields.status}
                clearable
                onChange={(v) => setFilter('status', v)}
              />
              <NumberInput
                label={t('members.noVisitDays')}
                value={filters.lastVisitDaysMin}
                error={badFields.lastVisitDaysMin}
                allowDecimal={false}
                min={0}
                onChange={(v) => setFilter('lastVisitDaysMin', v)}
              />
              <NumberInput
                label={t('members.visitsMin')}
                value={filters.visitsMin}
                error={badFields.visitsMin}
                allowDecimal={false}
                min={0}
                onChange={(v) => setFilter('visitsMin', v)}
              />
              <NumberInput
                label={t('members.visitsMax')}
                value={filters.visitsMax}
                error={badFields.visitsMax}
                allowDecimal={false}
                min={0}
                onChange={(v) => setFilter('visitsMax', v)}
              />
              <NumberInput
                label={t('members.spendMin', { currency: shop.currency })}
                value={filters.spendMin}
                error={badFields.spendMin}
                decimalScale={2}
                min={0}
                onChange={(v) => setFilter('spendMin', v)}
              />
              <NumberInput
                label={t('members.spendMax', { currency: shop.currency })}
                value={filters.spendMax}
                error={badFields.spendMax}
                decimalScale={2}
                min={0}
                onChange={(v) => setFilter('spendMax', v)}
              />
              <Select
                label={t('members.tier')}
                placeholder={t('members.anyTier')}
                data={tiers.map((x) => ({ value: x.id, label: x.name }))}
                value={filters.tierId}
                error={badFields.tierId}
                clearable
                onChange={(v) => setFilter('tierId', v)}
              />
              <NumberInput
                label={t('members.balanceMin')}
                value={filters.balanceMin}
                error={badFields.balanceMin}
                allowDecimal={false}
                onChange={(v) => setFilter('balanceMin', v)}
              />
              <NumberInput
                label={t('members.balanceMax')}
                value={filters.balanceMax}
                error={badFields.balanceMax}
                allowDecimal={false}
                onChange={(v) => setFilter('balanceMax', v)}
              />
              <div />
              <DateInput
                label={t('members.joinedFrom')}
                value={filters.joinedFrom}
                error={badFields.joinedFrom}
                valueFormat="YYYY-MM-DD"
                clearable
                onChange={(v) => setFilter('joinedFrom', v)}
              />
              <DateInput
                label={t('members.joinedTo')}
                value={filters.joinedTo}
                error={badFields.joinedTo}
                valueFormat="YYYY-MM-DD"
                clearable
                onChange={(v) => setFilter('joinedTo', v)}
              />
              <DateInput
                label={t('members.activeFrom')}
                value={filters.activeFrom}
                error={badFields.activeFrom}
                valueFormat="YYYY-MM-DD"
                clearable
                onChange={(v) => setFilter('activeFrom', v)}
              />
              <DateInput
                label={t('members.activeTo')}
                value={filters.activeTo}
                error={badFields.activeTo}
                valueFormat="YYYY-MM-DD"
                clearable
                onChange={(v) => setFilter('activeTo', v)}
              />
            </SimpleGrid>
            <Group justify="flex-end" mt="sm">
              <Button
                variant="subtle"
                onClick={() => {
                  setFilters(EMPTY_FILTERS);
                  setCursors([null]);
                }}
              >
                {t('members.clearFilters')}
              </Button>
            </Group>
          </Collapse>
        </Stack>
      </Paper>
      {error && Object.keys(badFields).length === 0 ? <ErrorAlert error={error} /> : null}
      {!data && fetching ? <PageLoader /> : null}
      {connection && rows.length === 0 ? <EmptyPanel title={t('members.empty')} description={t('members.emptyHint')} /> : null}
      {rows.length > 0 ? (
        <Table.ScrollContainer minWidth={1100}>
          <Table striped highlightOnHover verticalSpacing="xs" aria-busy={fetching}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('members.member')}</Table.Th>
                <Table.Th>{t('members.tier')}</Table.Th>
                <Table.Th>{t('members.status')}</Table.Th>
                <Table.Th>{t('members.tags')}</Table.Th>
                <Table.Th ta="end">{t('members.visits')}</Table.Th>
                <Table.Th ta="end">{t('members.totalSpend')}</Table.Th>
                <Table.Th>{t('members.lastVisit')}</Table.Th>
                <Table.Th ta="end">{t('members.available')}</Table.Th>
                <Table.Th ta="end">{t('members.lifetime')}</Table.Th>
                <Table.Th>{t('members.joined')}</Table.Th>
                <Table.Th>{t('members.lastActivity')}</Table.Th>
                {shop.canEdit ? <Table.Th aria-label={t('members.actions')} /> : null}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map(({ node }) => {
                const name = node.member.displayName || t('members.anonymous');
                return (
                  <Table.Tr key={node.id} data-testid="member-row" data-account-id={node.id}>
                    <Table.Td>
                      <Anchor component="button" type="button" fw={500} onClick={() => setOpenId(node.id)} ta="start">
                        {name}
                      </Anchor>
                      <Text size="xs" c="dimmed" truncate maw={240}>
                        {node.member.email || node.member.phone}
                      </Text>
                    </Table.Td>
                    <Table.Td style={{ minWidth: 96 }}>
                      {node.tier ? (
                        <Badge color={node.tier.color} autoContrast variant="filled">
                          {node.tier.name}
                        </Badge>
                      ) : (
                        '—'
                      )}
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={node.status} />
                    </Table.Td>
                    <Table.Td style={{ minWidth: 120 }}>
                      <MemberTags tags={node.tags} />
                    </Table.Td>
                    <Table.Td ta="end" data-testid="member-visits" data-value={node.stats?.visits ?? 0}>
                      {formatPoints(node.stats?.visits ?? 0)}
                    </Table.Td>
                    <Table.Td ta="end" style={{ whiteSpace: 'nowrap' }}>
                      {node.stats ? formatMoney(node.stats.totalSpend, shop.currency) : '—'}
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{node.stats?.lastVisitAt ? formatDate(node.stats.lastVisitAt) : '—'}</Table.Td>
                    <Table.Td ta="end" data-value={node.pointsAvailable}>
                      {formatPoints(node.pointsAvailable)}
                      {node.pointsPending ? (
                        <Text size="xs" c="dimmed">
                          {t('members.pendingShort', { n: formatPoints(node.pointsPending) })}
                        </Text>
                      ) : null}
                    </Table.Td>
                    <Table.Td ta="end">{formatPoints(node.lifetimePoints)}</Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDate(node.enrolledAt)}</Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{node.lastActivityAt ? formatDate(node.lastActivityAt) : '—'}</Table.Td>
                    {shop.canEdit ? (
                      <Table.Td>
                        <Button
                          size="compact-sm"
                          variant="subtle"
                          leftSection={<IconPencilPlus size={14} />}
                          onClick={() => setAdjusting({ id: node.id, name, available: node.pointsAvailable })}
                          aria-label={t('members.correctionFor', { name })}
                        >
                          {t('members.correction')}
                        </Button>
                      </Table.Td>
                    ) : null}
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : null}
      {connection && (page > 1 || connection.pageInfo.hasNextPage) ? (
        <Group justify="space-between" component="nav" aria-label={t('members.paging')}>
          <Button
            variant="default"
            leftSection={<IconChevronLeft size={16} />}
            disabled={page === 1 || fetching}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            {t('common.previous')}
          </Button>
          <Text size="sm" c="dimmed">
            {t('members.page', { n: formatPoints(page) })}
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
      <MemberDrawer accountId={openId} onClose={() => setOpenId(null)} />
      {adjusting ? (
        <AdjustDialog
          opened
          accountId={adjusting.id}
          memberName={adjusting.name}
          available={adjusting.available}
          onClose={() => setAdjusting(null)}
          onDone={() => refetch({ requestPolicy: 'network-only' })}
        />
      ) : null}
    </Stack>
  );
}

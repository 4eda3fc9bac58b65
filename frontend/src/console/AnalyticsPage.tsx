import { useMemo, useState, type ReactNode } from 'react';
import {
  Alert,
  Anchor,
  Group,
  Paper,
  Progress,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { AreaChart, DonutChart, LineChart } from '@mantine/charts';
import { DateInput } from '@mantine/dates';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { AnalyticsGranularity, ConsoleAnalyticsQuery } from '../gql/graphql';
import { formatDate, formatDateTime, formatMoney, formatNumber, formatPercent, formatPoints } from '../lib/format';
import { CustomerAnalyticsSection } from './AnalyticsPageCustomers';
import { MemberDrawer } from './MemberDrawer';
import { EditorOnly, EmptyPanel, ErrorAlert, PageLoader, useConsoleShop } from './shared';
import { todayIn } from './time';

const AnalyticsQuery = graphql(`
  query ConsoleAnalytics($slug: String!, $from: Date!, $to: Date!, $granularity: AnalyticsGranularity!, $top: Int!) {
    shop(slug: $slug) {
      id
      program {
        id
        tiers {
          id
          color
        }
      }
      analytics(from: $from, to: $to, granularity: $granularity, top: $top) {
        from
        to
        granularity
        currency
        pointValue
        generatedAt
        membersTotal
        membersNew
        membersActive
        tierDistribution {
          tierId
          name
          position
          members
        }
        pointsIssued
        pointsReversed
        pointsRedeemed
        pointsExpired
        pointsAdjusted
        liabilityPoints
        liabilityPointsAvailable
        liabilityPointsPending
        liabilityAmount
        redemptionRate
        breakageRate
        breakagePointsEstimate
        breakageAmountEstimate
        ordersCount
        revenue
        averageOrderValue
        topMembers {
          accountId
          displayName
          tierName
          points
        }
        series {
          start
          pointsIssued
          pointsReversed
          pointsRedeemed
          pointsExpired
          pointsAdjusted
          membersNew
          ordersDelivered
          revenue
        }
      }
    }
  }
`);

type Analytics = NonNullable<NonNullable<ConsoleAnalyticsQuery['shop']>['analytics']>;
type Bucket = Analytics['series'][number];

const TOP = 10;
const FALLBACK_COLORS = ['blue.6', 'teal.6', 'yellow.6', 'grape.6', 'orange.6', 'cyan.6', 'pink.6'];

/** Net change of outstanding points in one bucket (RELEASE moves pending to available: no change). */
function netFlow(b: Bucket): number {
  return b.pointsIssued - b.pointsReversed - b.pointsRedeemed - b.pointsExpired + b.pointsAdjusted;
}

/**
 * Outstanding points at the end of each bucket, worked back from today's liability through
 * the period's flows. Only exact when the period reaches today (no flows after it).
 */
export function liabilityTrend(series: readonly Bucket[], liabilityNow: number): number[] {
  const out = new Array<number>(series.length);
  let level = liabilityNow;
  for (let i = series.length - 1; i >= 0; i -= 1) {
    out[i] = level;
    level -= netFlow(series[i]);
  }
  return out;
}

/** Analytics: period figures, tier distribution, points over time, liability, top members. */
export function AnalyticsPage() {
  return (
    <EditorOnly>
      <AnalyticsView />
    </EditorOnly>
  );
}

function AnalyticsView() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const today = todayIn(shop.timezone);
  const [from, setFrom] = useState<string | null>(todayIn(shop.timezone, -29));
  const [to, setTo] = useState<string | null>(today);
  const [granularity, setGranularity] = useState<AnalyticsGranularity>('DAY');
  const [openId, setOpenId] = useState<string | null>(null);
  const rangeError = from && to && from > to ? t('analytics.rangeOrder') : null;
  const paused = !from || !to || !!rangeError;

  const [{ data, fetching, error }] = useQuery({
    query: AnalyticsQuery,
    variables: { slug: shop.slug, from: from ?? today, to: to ?? today, granularity, top: TOP },
    pause: paused,
    requestPolicy: 'cache-and-network',
  });
  const a = data?.shop?.analytics;
  const tierColors = useMemo(() => new Map((data?.shop?.program?.tiers ?? []).map((x) => [x.id, x.color])), [data]);

  return (
    <Stack>
      <Title order={2}>{t('analytics.title')}</Title>
      <Paper withBorder p="sm">
        <Group align="flex-end" gap="sm">
          <DateInput
            label={t('analytics.from')}
            value={from}
            onChange={setFrom}
            valueFormat="YYYY-MM-DD"
            maxDate={to ?? undefined}
            style={{ flex: '1 1 150px' }}
          />
          <DateInput
            label={t('analytics.to')}
            value={to}
            onChange={setTo}
            valueFormat="YYYY-MM-DD"
            minDate={from ?? undefined}
            error={rangeError}
            style={{ flex: '1 1 150px' }}
          />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="analytics-granularity">
              {t('analytics.granularity')}
            </Text>
            <SegmentedControl
              aria-labelledby="analytics-granularity"
              value={granularity}
              onChange={(v) => setGranularity(v as AnalyticsGranularity)}
              data={[
                { value: 'DAY', label: t('analytics.day') },
                { value: 'WEEK', label: t('analytics.week') },
              ]}
            />
          </Stack>
        </Group>
        <Text size="xs" c="dimmed" mt="xs">
          {t('analytics.zoneNote', { zone: shop.timezone })}
        </Text>
      </Paper>
      {error ? <ErrorAlert error={error} /> : null}
      {!a && fetching ? <PageLoader /> : null}
      {a ? <AnalyticsBody a={a} tierColors={tierColors} reachesToday={a.to >= today} onOpenMember={setOpenId} /> : null}
      {!paused && from && to ? <CustomerAnalyticsSection from={from.slice(0, 10)} to={to.slice(0, 10)} /> : null}
      <MemberDrawer accountId={openId} onClose={() => setOpenId(null)} />
    </Stack>
  );
}

function Figure({ id, label, value, raw, sub }: { id: string; label: string; value: string; raw: number | string | null; sub?: string }) {
  return (
    <Paper withBorder p="sm" data-testid={`figure-${id}`} data-value={raw ?? ''}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fz="xl" fw={700}>
        {value}
      </Text>
      {sub ? (
        <Text size="xs" c="dimmed">
          {sub}
        </Text>
      ) : null}
    </Paper>
  );
}

/** A titled panel of the analytics page. */
function Panel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md">
      <Title order={3} size="h4" mb="sm">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

function AnalyticsBody({
  a,
  tierColors,
  reachesToday,
  onOpenMember,
}: {
  a: Analytics;
  tierColors: Map<string, string>;
  reachesToday: boolean;
  onOpenMember: (id: string) => void;
}) {
  const { t } = useTranslation('console');
  const money = (v: string | number) => formatMoney(v, a.currency);
  const signed = (n: number) => `${n > 0 ? '+' : ''}${formatPoints(n)}`;
  const label = (start: string) => formatDate(start);

  const flows = a.series.map((b) => ({
    label: label(b.start),
    issued: b.pointsIssued,
    redeemed: b.pointsRedeemed,
    expired: b.pointsExpired,
  }));
  const trend = liabilityTrend(a.series, a.liabilityPoints);
  const liabilitySeries = a.series.map((b, i) => ({ label: label(b.start), outstanding: trend[i] }));
  const donut = a.tierDistribution.map((row, i) => ({
    name: row.name,
    value: row.members,
    color: tierColors.get(row.tierId) ?? FALLBACK_COLORS[i % FALLBACK_COLORS.length],
  }));
  const tierTotal = a.tierDistribution.reduce((s, r) => s + r.members, 0);
  const availableShare = a.liabilityPoints > 0 ? (a.liabilityPointsAvailable / a.liabilityPoints) * 100 : 0;

  return (
    <Stack gap="lg" data-testid="analytics">
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 4 }} spacing="sm">
        <Figure id="members-total" label={t('analytics.membersTotal')} value={formatPoints(a.membersTotal)} raw={a.membersTotal} />
        <Figure id="members-new" label={t('analytics.membersNew')} value={formatPoints(a.membersNew)} raw={a.membersNew} />
        <Figure id="members-active" label={t('analytics.membersActive')} value={formatPoints(a.membersActive)} raw={a.membersActive} sub={t('analytics.activeHint')} />
        <Figure id="points-issued" label={t('analytics.pointsIssued')} value={formatPoints(a.pointsIssued)} raw={a.pointsIssued} sub={t('analytics.reversedSub', { n: formatPoints(a.pointsReversed) })} />
        <Figure id="points-redeemed" label={t('analytics.pointsRedeemed')} value={formatPoints(a.pointsRedeemed)} raw={a.pointsRedeemed} />
        <Figure id="points-expired" label={t('analytics.pointsExpired')} value={formatPoints(a.pointsExpired)} raw={a.pointsExpired} />
        <Figure id="points-adjusted" label={t('analytics.pointsAdjusted')} value={signed(a.pointsAdjusted)} raw={a.pointsAdjusted} />
        <Figure
          id="liability"
          label={t('analytics.liability')}
          value={formatPoints(a.liabilityPoints)}
          raw={a.liabilityPoints}
          sub={money(a.liabilityAmount)}
        />
        <Figure
          id="redemption-rate"
          label={t('analytics.redemptionRate')}
          value={a.redemptionRate != null ? formatPercent(a.redemptionRate) : '—'}
          raw={a.redemptionRate ?? null}
          sub={a.redemptionRate == null ? t('analytics.nothingIssued') : undefined}
        />
        <Figure
          id="breakage"
          label={t('analytics.breakage')}
          value={formatPoints(a.breakagePointsEstimate)}
          raw={a.breakagePointsEstimate}
          sub={`${money(a.breakageAmountEstimate)} · ${a.breakageRate != null ? formatPercent(a.breakageRate) : '—'}`}
        />
        <Figure
          id="average-order"
          label={t('analytics.averageOrderValue')}
          value={a.averageOrderValue != null ? money(a.averageOrderValue) : '—'}
          raw={a.averageOrderValue ?? null}
          sub={t('analytics.ordersSub', { count: a.ordersCount, n: formatPoints(a.ordersCount), revenue: money(a.revenue) })}
        />
      </SimpleGrid>

      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        <Panel title={t('analytics.tierDistribution')}>
          {tierTotal === 0 ? (
            <EmptyPanel title={t('analytics.noMembers')} />
          ) : (
            <Group justify="center" align="center" wrap="wrap" gap="lg">
              <DonutChart data={donut} size={180} thickness={28} withTooltip valueFormatter={formatPoints} chartLabel={formatPoints(tierTotal)} />
              <Stack gap={4} component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label={t('analytics.tierDistribution')}>
                {a.tierDistribution.map((row, i) => (
                  <Group key={row.tierId} gap="xs" component="li" wrap="nowrap">
                    <span
                      aria-hidden
                      style={{
                        width: 12,
                        height: 12,
                        borderRadius: 3,
                        background: donut[i].color.startsWith('#') ? donut[i].color : `var(--mantine-color-${donut[i].color.replace('.', '-')})`,
                      }}
                    />
                    <Text size="sm">
                      {row.name}: <b>{formatPoints(row.members)}</b>
                    </Text>
                  </Group>
                ))}
              </Stack>
            </Group>
          )}
        </Panel>
        <Panel title={t('analytics.liabilityTitle')}>
          <Text size="sm">
            {t('analytics.liabilityLine', { points: formatPoints(a.liabilityPoints), amount: money(a.liabilityAmount) })}
          </Text>
          <Progress.Root size="lg" mt="xs" aria-label={t('analytics.liabilitySplit')}>
            <Progress.Section value={availableShare} color="teal">
              <Progress.Label>{t('analytics.available')}</Progress.Label>
            </Progress.Section>
            <Progress.Section value={100 - availableShare} color="yellow">
              <Progress.Label>{t('analytics.pending')}</Progress.Label>
            </Progress.Section>
          </Progress.Root>
          <Text size="xs" c="dimmed" mt={4}>
            {t('analytics.liabilitySplitLine', {
              available: formatPoints(a.liabilityPointsAvailable),
              pending: formatPoints(a.liabilityPointsPending),
            })}
          </Text>
          {reachesToday && a.series.length > 1 ? (
            <AreaChart
              mt="md"
              h={180}
              data={liabilitySeries}
              dataKey="label"
              series={[{ name: 'outstanding', label: t('analytics.outstanding'), color: 'indigo.6' }]}
              valueFormatter={formatPoints}
              curveType="linear"
              withDots={false}
            />
          ) : (
            <Text size="xs" c="dimmed" mt="md">
              {t('analytics.trendNeedsToday')}
            </Text>
          )}
        </Panel>
      </SimpleGrid>

      <Panel title={t('analytics.pointsOverTime')}>
        {flows.length === 0 ? (
          <EmptyPanel title={t('analytics.noData')} />
        ) : (
          <LineChart
            h={260}
            data={flows}
            dataKey="label"
            withLegend
            valueFormatter={formatPoints}
            curveType="monotone"
            withDots={flows.length <= 31}
            series={[
              { name: 'issued', label: t('analytics.issued'), color: 'teal.6' },
              { name: 'redeemed', label: t('analytics.redeemed'), color: 'blue.6' },
              { name: 'expired', label: t('analytics.expired'), color: 'red.6' },
            ]}
          />
        )}
      </Panel>

      <Panel title={t('analytics.topMembers')}>
        {a.topMembers.length === 0 ? (
          <EmptyPanel title={t('analytics.noTopMembers')} />
        ) : (
          <Table.ScrollContainer minWidth={320}>
            <Table verticalSpacing={4}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>#</Table.Th>
                  <Table.Th>{t('members.member')}</Table.Th>
                  <Table.Th>{t('members.tier')}</Table.Th>
                  <Table.Th ta="end">{t('analytics.issued')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {a.topMembers.map((m, i) => (
                  <Table.Tr key={m.accountId} data-testid="top-member">
                    <Table.Td>{formatPoints(i + 1)}</Table.Td>
                    <Table.Td>
                      <Anchor component="button" type="button" onClick={() => onOpenMember(m.accountId)}>
                        {m.displayName || t('members.anonymous')}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{m.tierName ?? '—'}</Table.Td>
                    <Table.Td ta="end">{formatPoints(m.points)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Panel>
      <Alert color="gray" variant="light">
        <Text size="xs">
          {t('analytics.footnote', { generated: formatDateTime(a.generatedAt), value: `${formatNumber(a.pointValue, 6)} ${a.currency}` })}
        </Text>
      </Alert>
    </Stack>
  );
}

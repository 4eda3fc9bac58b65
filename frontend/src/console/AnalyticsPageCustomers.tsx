import type { ReactNode } from 'react';
import { Badge, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { formatDate, formatMoney, formatNumber, formatPercent, formatPoints } from '../lib/format';
import { ErrorAlert, PageLoader, useConsoleShop } from './shared';

const CustomerAnalyticsQuery = graphql(`
  query ConsoleCustomerAnalytics($slug: String!, $from: Date!, $to: Date!) {
    shop(slug: $slug) {
      id
      customerAnalytics(from: $from, to: $to) {
        from
        to
        currency
        retention {
          month
          membersActiveBefore
          membersActive
          membersNew
          membersRetained
          membersChurned
          retentionRate
          churnRate
        }
        tierMoves {
          month
          upgrades
          downgrades
          distribution {
            tierId
            name
            position
            members
          }
        }
        rewards {
          rewardId
          name
          issued
          used
          cancelled
          expired
          pointsSpent
          members
        }
        tiers {
          tierId
          name
          position
          orders
          members
          revenue
          averageOrderValue
          visitsPerMember
        }
        revenue {
          memberOrders
          memberCustomers
          memberRevenue
          memberAverageOrderValue
          nonMemberOrders
          nonMemberCustomers
          nonMemberRevenue
          nonMemberAverageOrderValue
          memberRevenueShare
        }
      }
    }
  }
`);

const rate = (v: string | null | undefined) => (v === null || v === undefined ? '—' : formatPercent(v));
const money = (v: string | null | undefined, currency: string) => (v === null || v === undefined ? '—' : formatMoney(v, currency));

function Section({ title, children, testId }: { title: string; children: ReactNode; testId: string }) {
  return (
    <Paper withBorder p="md" data-testid={testId}>
      <Title order={4} mb="sm">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

/** The "Customers" part of the analytics page: `shop.customerAnalytics` over the page's days. */
export function CustomerAnalyticsSection({ from, to }: { from: string; to: string }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }] = useQuery({
    query: CustomerAnalyticsQuery,
    variables: { slug: shop.slug, from, to },
    requestPolicy: 'cache-and-network',
  });
  const c = data?.shop?.customerAnalytics;
  return (
    <Stack gap="md" component="section" aria-labelledby="customer-analytics-title" data-testid="customer-analytics">
      <Title order={3} id="customer-analytics-title">
        {t('customerAnalytics.title')}
      </Title>
      {error ? <ErrorAlert error={error} /> : null}
      {!c && fetching ? <PageLoader /> : null}
      {c ? (
        <>
          <Section title={t('customerAnalytics.revenue')} testId="customer-revenue">
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {(
                [
                  ['members', c.revenue.memberOrders, c.revenue.memberCustomers, c.revenue.memberRevenue, c.revenue.memberAverageOrderValue],
                  ['nonMembers', c.revenue.nonMemberOrders, c.revenue.nonMemberCustomers, c.revenue.nonMemberRevenue, c.revenue.nonMemberAverageOrderValue],
                ] as const
              ).map(([key, orders, customers, revenue, aov]) => (
                <Paper key={key} withBorder p="sm" data-testid={`customer-revenue-${key}`} data-value={revenue}>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                    {t(`customerAnalytics.${key}`)}
                  </Text>
                  <Text fz="xl" fw={700}>
                    {formatMoney(revenue, c.currency)}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {t('customerAnalytics.ordersCustomers', { orders: formatPoints(orders), customers: formatPoints(customers) })} ·{' '}
                    {t('customerAnalytics.aovShort', { value: money(aov, c.currency) })}
                  </Text>
                </Paper>
              ))}
            </SimpleGrid>
            <Text size="sm" mt="xs">
              {t('customerAnalytics.memberShare', { share: rate(c.revenue.memberRevenueShare) })}
            </Text>
          </Section>
          <Section title={t('customerAnalytics.retention')} testId="customer-retention">
            <Table.ScrollContainer minWidth={640}>
              <Table striped verticalSpacing={4} fz="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('customerAnalytics.month')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.activeBefore')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.active')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.new')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.retained')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.churned')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.retentionRate')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.churnRate')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {c.retention.map((r) => (
                    <Table.Tr key={r.month} data-testid="retention-row">
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDate(r.month)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.membersActiveBefore)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.membersActive)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.membersNew)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.membersRetained)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.membersChurned)}</Table.Td>
                      <Table.Td ta="end">{rate(r.retentionRate)}</Table.Td>
                      <Table.Td ta="end">{rate(r.churnRate)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Section>
          <Section title={t('customerAnalytics.tierMoves')} testId="customer-tier-moves">
            <Table.ScrollContainer minWidth={480}>
              <Table striped verticalSpacing={4} fz="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('customerAnalytics.month')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.upgrades')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.downgrades')}</Table.Th>
                    <Table.Th>{t('customerAnalytics.distribution')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {c.tierMoves.map((m) => (
                    <Table.Tr key={m.month}>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDate(m.month)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(m.upgrades)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(m.downgrades)}</Table.Td>
                      <Table.Td>
                        <Group gap={4}>
                          {m.distribution.map((d) => (
                            <Badge key={d.tierId} variant="light" size="sm">
                              {d.name}: {formatPoints(d.members)}
                            </Badge>
                          ))}
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Section>
          <Section title={t('customerAnalytics.tiers')} testId="customer-tiers">
            <Table.ScrollContainer minWidth={480}>
              <Table striped verticalSpacing={4} fz="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('customerAnalytics.tier')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.orders')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.customers')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.revenueCol')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.aov')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.visitsPerMember')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {c.tiers.map((x) => (
                    <Table.Tr key={x.tierId ?? 'none'}>
                      <Table.Td>{x.name ?? t('customerAnalytics.noTier')}</Table.Td>
                      <Table.Td ta="end">{formatPoints(x.orders)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(x.members)}</Table.Td>
                      <Table.Td ta="end">{formatMoney(x.revenue, c.currency)}</Table.Td>
                      <Table.Td ta="end">{money(x.averageOrderValue, c.currency)}</Table.Td>
                      <Table.Td ta="end">{x.visitsPerMember === null || x.visitsPerMember === undefined ? '—' : formatNumber(x.visitsPerMember)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Section>
          <Section title={t('customerAnalytics.rewards')} testId="customer-rewards">
            <Table.ScrollContainer minWidth={560}>
              <Table striped verticalSpacing={4} fz="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('customerAnalytics.reward')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.issued')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.used')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.cancelled')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.expired')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.pointsSpent')}</Table.Th>
                    <Table.Th ta="end">{t('customerAnalytics.customers')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {c.rewards.map((r) => (
                    <Table.Tr key={r.rewardId} data-testid="reward-redemptions-row">
                      <Table.Td>{r.name}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.issued)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.used)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.cancelled)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.expired)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.pointsSpent)}</Table.Td>
                      <Table.Td ta="end">{formatPoints(r.members)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Section>
        </>
      ) : null}
    </Stack>
  );
}

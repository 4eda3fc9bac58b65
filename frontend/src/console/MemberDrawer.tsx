import { useState } from 'react';
import { Badge, Button, Drawer, Group, Paper, SimpleGrid, Stack, Table, Tabs, Text, Timeline, Title, Tooltip } from '@mantine/core';
import { IconPencilPlus } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { MemberStatus, TagSource } from '../gql/graphql';
import { formatDate, formatDateTime, formatMoney, formatNumber, formatPoints } from '../lib/format';
import { AdjustDialog } from './AdjustDialog';
import { MemberCrmPanel } from './MemberDrawerRecord';
import { EmptyPanel, ErrorAlert, PageLoader, useConsoleShop } from './shared';

const STATUS_COLOR: Record<MemberStatus, string> = { ACTIVE: 'teal', INACTIVE: 'gray', BLOCKED: 'red' };

/** A member's status as a small badge. */
export function StatusBadge({ status }: { status: MemberStatus }) {
  const { t } = useTranslation('console');
  return (
    <Badge variant="light" color={STATUS_COLOR[status]} data-testid="member-status" data-value={status}>
      {t(`memberStatus.${status}`)}
    </Badge>
  );
}

/** A member's tags as chips: automatic ones filled, manual ones outlined; the reason as tooltip. */
export function MemberTags({
  tags,
  onRemove,
}: {
  tags: readonly { tag: string; source: TagSource; reason: string }[];
  onRemove?: (tag: string) => void;
}) {
  const { t } = useTranslation('console');
  if (tags.length === 0) return <>—</>;
  return (
    <Group gap={4}>
      {tags.map((tag) => (
        <Tooltip key={tag.tag} label={tag.reason || t(`tagSource.${tag.source}`)} withArrow>
          <Badge
            size="sm"
            radius="sm"
            variant={tag.source === 'AUTO' ? 'filled' : 'outline'}
            color={tag.source === 'AUTO' ? 'violet' : 'blue'}
            data-testid="member-tag"
            data-source={tag.source}
            data-tag={tag.tag}
            aria-label={t('tagSource.label', { tag: tag.tag, source: t(`tagSource.${tag.source}`) })}
            rightSection={
              onRemove && tag.source === 'MANUAL' ? (
                <button
                  type="button"
                  aria-label={t('crm.removeTag', { tag: tag.tag })}
                  onClick={() => onRemove(tag.tag)}
                  style={{ border: 0, background: 'none', color: 'inherit', cursor: 'pointer', padding: 0 }}
                >
                  ×
                </button>
              ) : undefined
            }
          >
            {tag.tag}
          </Badge>
        </Tooltip>
      ))}
    </Group>
  );
}

const MemberQuery = graphql(`
  query ConsoleMember($slug: String!, $id: ID!, $first: Int!, $language: String) {
    shop(slug: $slug) {
      id
      program {
        id
        tierBasis
      }
      member(id: $id) {
        id
        member {
          displayName
          email
          phone
        }
        pointsAvailable
        pointsPending
        pointsRedeemed
        pointsExpired
        lifetimePoints
        qualifyingValue
        enrolledAt
        lastActivityAt
        status
        record {
          firstName
          lastName
          email
          phone
          birthDate
          personalDates
          preferences
          updatedAt
        }
        stats {
          visits
          totalSpend
          year
          yearSpend
          averageOrderValue
          firstVisitAt
          lastVisitAt
          visitIntervalDays
          lifetimeValue
        }
        tags {
          tag
          source
          reason
          assignedAt
        }
        notes {
          text
          createdAt
          author
        }
        tier {
          id
          name
          color
        }
        tierHistory {
          id
          fromTier {
            id
            name
          }
          toTier {
            id
            name
            color
          }
          qualifyingValue
          reason
          createdAt
        }
        entries(first: $first) {
          totalCount
          pageInfo {
            hasNextPage
          }
          edges {
            node {
              id
              kind
              points
              availableAfter
              pendingAfter
              reason(language: $language)
              createdAt
              adjustedBy
              appliedRules {
                ruleId
                name
                points
              }
              source {
                type
                orderExternalId
              }
            }
          }
        }
      }
    }
  }
`);

/** Side panel with one member's figures, ledger and tier history (`shop.member`). */
export function MemberDrawer({ accountId, onClose }: { accountId: string | null; onClose: () => void }) {
  const { t } = useTranslation('console');
  return (
    <Drawer opened={accountId !== null} onClose={onClose} position="right" size="lg" title={t('member.title')}>
      {accountId ? <MemberDetail accountId={accountId} /> : null}
    </Drawer>
  );
}

function MemberDetail({ accountId }: { accountId: string }) {
  const { t, i18n } = useTranslation('console');
  const shop = useConsoleShop();
  const [first, setFirst] = useState(25);
  const [adjusting, setAdjusting] = useState(false);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: MemberQuery,
    // Ledger reasons in the console's language.
    variables: { slug: shop.slug, id: accountId, first, language: i18n.resolvedLanguage ?? i18n.language },
    requestPolicy: 'cache-and-network',
  });
  const m = data?.shop?.member;
  const pointsBasis = data?.shop?.program?.tierBasis === 'POINTS';
  const qualifying = (v: string) => (pointsBasis ? formatPoints(Number(v)) : formatMoney(v, shop.currency));

  if (!data && fetching) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;
  if (!m) return <EmptyPanel title={t('member.notFound')} />;

  const name = m.member.displayName || t('members.anonymous');
  const figures: [string, string][] = [
    [t('member.available'), formatPoints(m.pointsAvailable)],
    [t('member.pending'), formatPoints(m.pointsPending)],
    [t('member.lifetime'), formatPoints(m.lifetimePoints)],
    [t('member.redeemed'), formatPoints(m.pointsRedeemed)],
    [t('member.expired'), formatPoints(m.pointsExpired)],
    [t('member.qualifying'), qualifying(m.qualifyingValue)],
  ];
  const s = m.stats;
  const statFigures: [string, string][] = s
    ? [
        [t('crm.stats.visits'), formatPoints(s.visits)],
        [t('crm.stats.totalSpend'), formatMoney(s.totalSpend, shop.currency)],
        [t('crm.stats.yearSpend', { year: s.year }), formatMoney(s.yearSpend, shop.currency)],
        [t('crm.stats.aov'), formatMoney(s.averageOrderValue, shop.currency)],
        [t('crm.stats.lastVisit'), s.lastVisitAt ? formatDate(s.lastVisitAt) : '—'],
        [t('crm.stats.interval'), s.visitIntervalDays ? t('crm.stats.days', { n: formatNumber(s.visitIntervalDays) }) : '—'],
      ]
    : [];

  return (
    <Stack data-testid="member-detail" data-account-id={m.id}>
      <Group justify="space-between" align="flex-start">
        <div>
          <Title order={3}>{name}</Title>
          <Text size="sm" c="dimmed">
            {[m.member.email, m.member.phone].filter(Boolean).join(' · ') || t('member.noContact')}
          </Text>
          <Text size="xs" c="dimmed">
            {t('member.since', { date: formatDate(m.enrolledAt) })}
            {m.lastActivityAt ? ` · ${t('member.lastActivity', { date: formatDate(m.lastActivityAt) })}` : ''}
          </Text>
        </div>
        <Stack gap={4} align="flex-end">
          {m.tier ? (
            <Badge color={m.tier.color} autoContrast size="lg">
              {m.tier.name}
            </Badge>
          ) : null}
          <StatusBadge status={m.status} />
        </Stack>
      </Group>
      <SimpleGrid cols={{ base: 2, xs: 3 }} spacing="xs">
        {figures.map(([label, value]) => (
          <Paper key={label} withBorder p="xs">
            <Text size="xs" c="dimmed">
              {label}
            </Text>
            <Text fw={600}>{value}</Text>
          </Paper>
        ))}
      </SimpleGrid>
      {statFigures.length ? (
        <SimpleGrid cols={{ base: 2, xs: 3 }} spacing="xs" data-testid="member-stats">
          {statFigures.map(([label, value]) => (
            <Paper key={label} withBorder p="xs">
              <Text size="xs" c="dimmed">
                {label}
              </Text>
              <Text fw={600}>{value}</Text>
            </Paper>
          ))}
        </SimpleGrid>
      ) : (
        <Text size="sm" c="dimmed">
          {t('crm.stats.none')}
        </Text>
      )}
      {shop.canEdit ? (
        <Group>
          <Button leftSection={<IconPencilPlus size={16} />} variant="light" onClick={() => setAdjusting(true)}>
            {t('members.correction')}
          </Button>
        </Group>
      ) : null}
      <Tabs defaultValue="ledger">
        <Tabs.List>
          <Tabs.Tab value="ledger">{t('member.ledger')}</Tabs.Tab>
          <Tabs.Tab value="tiers">{t('member.tierHistory')}</Tabs.Tab>
          <Tabs.Tab value="record">{t('crm.tab')}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="record" pt="sm">
          <MemberCrmPanel account={m} onChanged={() => refetch({ requestPolicy: 'network-only' })} />
        </Tabs.Panel>
        <Tabs.Panel value="ledger" pt="sm">
          {m.entries.edges.length === 0 ? (
            <EmptyPanel title={t('member.noEntries')} />
          ) : (
            <Table.ScrollContainer minWidth={480}>
              <Table striped verticalSpacing={4} fz="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('member.when')}</Table.Th>
                    <Table.Th>{t('member.kind')}</Table.Th>
                    <Table.Th ta="end">{t('member.points')}</Table.Th>
                    <Table.Th>{t('member.reason')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {m.entries.edges.map(({ node }) => (
                    <Table.Tr key={node.id} data-testid="member-ledger-row">
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(node.createdAt)}</Table.Td>
                      <Table.Td style={{ minWidth: 110 }}>
                        <Badge variant="light" size="sm" style={{ overflow: 'visible' }}>
                          {t(`kinds.${node.kind.toLowerCase()}`, { defaultValue: node.kind })}
                        </Badge>
                      </Table.Td>
                      <Table.Td ta="end" c={node.points < 0 ? 'red' : 'green'} style={{ whiteSpace: 'nowrap' }}>
                        <bdi dir="ltr">
                          {node.points > 0 ? '+' : ''}
                          {formatPoints(node.points)}
                        </bdi>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{node.reason}</Text>
                        {node.appliedRules.length ? (
                          <Text size="xs" c="dimmed">
                            {node.appliedRules.map((r) => `${r.name} +${formatPoints(r.points)}`).join(', ')}
                          </Text>
                        ) : null}
                        {node.kind === 'ADJUST' && node.adjustedBy ? (
                          <Text size="xs" c="dimmed" data-testid="adjusted-by">
                            {t('member.adjustedBy', { user: node.adjustedBy })}
                          </Text>
                        ) : null}
                        {node.source.orderExternalId ? (
                          <Text size="xs" c="dimmed">
                            {t('member.order', { id: node.source.orderExternalId })}
                          </Text>
                        ) : null}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
          {m.entries.pageInfo.hasNextPage && first < 100 ? (
            <Group justify="center" mt="sm">
              <Button variant="light" loading={fetching} onClick={() => setFirst((n) => Math.min(n + 25, 100))}>
                {t('common.loadMore')}
              </Button>
            </Group>
          ) : null}
        </Tabs.Panel>
        <Tabs.Panel value="tiers" pt="sm">
          {m.tierHistory.length === 0 ? (
            <EmptyPanel title={t('member.noTierHistory')} />
          ) : (
            <Timeline active={m.tierHistory.length} bulletSize={14} lineWidth={2}>
              {m.tierHistory.map((h) => (
                <Timeline.Item
                  key={h.id}
                  title={h.fromTier ? t('member.tierMove', { from: h.fromTier.name, to: h.toTier.name }) : t('member.tierJoin', { to: h.toTier.name })}
                >
                  <Text size="sm">{h.reason}</Text>
                  <Text size="xs" c="dimmed">
                    {formatDate(h.createdAt)} · {t('member.atValue', { value: qualifying(h.qualifyingValue) })}
                  </Text>
                </Timeline.Item>
              ))}
            </Timeline>
          )}
        </Tabs.Panel>
      </Tabs>
      {shop.canEdit ? (
        <AdjustDialog
          opened={adjusting}
          accountId={m.id}
          memberName={name}
          available={m.pointsAvailable}
          onClose={() => setAdjusting(false)}
          onDone={() => refetch({ requestPolicy: 'network-only' })}
        />
      ) : null}
    </Stack>
  );
}

import { useState } from 'react';
import { Badge, Button, Center, Drawer, Group, Paper, Select, SimpleGrid, Stack, Table, Text, Timeline, Title, VisuallyHidden } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { ConsoleEngagementLogQuery, DeliveryOutcome, EngagementKind, MessageChannel, MessageStatus } from '../gql/graphql';
import { formatDateTime, formatPoints } from '../lib/format';
import { CHANNELS, dirOf, ENGAGEMENT_KINDS, STATUSES, statusColor } from './MessagesPageShared';
import { EmptyPanel, ErrorAlert, PageLoader, useConsoleShop } from './shared';

const LogQuery = graphql(`
  query ConsoleEngagementLog(
    $slug: String!
    $kind: EngagementKind
    $channel: MessageChannel
    $status: MessageStatus
    $first: Int!
  ) {
    shop(slug: $slug) {
      id
      engagementLog(kind: $kind, channel: $channel, status: $status, first: $first) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            id
            kind
            key
            channel
            status
            response
            language
            subject
            body
            plannedAt
            sentAt
            readAt
            attempts
            deliveryAttempts {
              at
              outcome
              detail
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

const FiguresQuery = graphql(`
  query ConsoleEngagementFigures($slug: String!, $from: DateTime!, $to: DateTime!) {
    shop(slug: $slug) {
      id
      engagementFigures(from: $from, to: $to) {
        kind
        planned
        sent
        failed
        skipped
        opened
      }
    }
  }
`);

/** Log rows per page; "Load more" asks for another page's worth. */
export const LOG_PAGE_SIZE = 50;

type LogEvent = NonNullable<ConsoleEngagementLogQuery['shop']>['engagementLog']['edges'][number]['node'];

const OUTCOME_COLORS: Record<DeliveryOutcome, string> = { SENT: 'teal', FAILED: 'red', DEFERRED: 'yellow', SKIPPED: 'gray' };

const memberName = (e: LogEvent) => e.member.member.displayName || e.member.member.email || e.member.member.phone || e.member.id;

/** The delivery log with its filters, and the last 30 days' figures per kind above it. */
export function DeliveryLogPanel() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [kind, setKind] = useState<EngagementKind | null>(null);
  const [channel, setChannel] = useState<MessageChannel | null>(null);
  const [status, setStatus] = useState<MessageStatus | null>(null);
  const [first, setFirst] = useState(LOG_PAGE_SIZE);
  const [open, setOpen] = useState<LogEvent | null>(null);
  const [{ data, fetching, error }] = useQuery({ query: LogQuery, variables: { slug: shop.slug, kind, channel, status, first } });
  const log = data?.shop?.engagementLog;
  const events = log?.edges.map((e) => e.node) ?? [];
  const filter = <T,>(set: (v: T | null) => void) => (v: string | null) => {
    set((v || null) as T | null);
    setFirst(LOG_PAGE_SIZE);
  };

  return (
    <Stack>
      <FiguresCard />
      <Group gap="sm" align="flex-end" data-testid="log-filters">
        <Select
          label={t('messages.log.filters.kind')}
          placeholder={t('messages.log.filters.anyKind')}
          data={ENGAGEMENT_KINDS.map((k) => ({ value: k, label: t(`messages.kinds.${k}`) }))}
          value={kind}
          onChange={filter(setKind)}
          clearable
        />
        <Select
          label={t('messages.log.filters.channel')}
          placeholder={t('messages.log.filters.anyChannel')}
          data={CHANNELS.map((c) => ({ value: c, label: t(`messages.channels.${c}`) }))}
          value={channel}
          onChange={filter(setChannel)}
          clearable
        />
        <Select
          label={t('messages.log.filters.status')}
          placeholder={t('messages.log.filters.anyStatus')}
          data={STATUSES.map((s) => ({ value: s, label: t(`messages.statuses.${s}`) }))}
          value={status}
          onChange={filter(setStatus)}
          clearable
        />
      </Group>
      {error ? <ErrorAlert error={error} /> : null}
      {fetching && !data ? (
        <PageLoader />
      ) : events.length === 0 && !error ? (
        <EmptyPanel title={t('messages.log.empty')} description={t('messages.log.emptyHint')} />
      ) : (
        <Table.ScrollContainer minWidth={760}>
          <Table striped highlightOnHover verticalSpacing="xs" data-testid="log-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('messages.log.columns.time')}</Table.Th>
                <Table.Th>{t('messages.log.columns.member')}</Table.Th>
                <Table.Th>{t('messages.log.columns.kind')}</Table.Th>
                <Table.Th>{t('messages.log.columns.channel')}</Table.Th>
                <Table.Th>{t('messages.log.columns.status')}</Table.Th>
                <Table.Th>{t('messages.log.columns.subject')}</Table.Th>
                <Table.Th>
                  <VisuallyHidden>{t('messages.log.columns.actions')}</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {events.map((e) => (
                <Table.Tr key={e.id} data-testid="log-row" data-status={e.status}>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    {formatDateTime(e.sentAt ?? e.plannedAt)}
                    {!e.sentAt ? (
                      <Text size="xs" c="dimmed">
                        {t('messages.log.planned')}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>{memberName(e)}</Table.Td>
                  <Table.Td>{t(`messages.kinds.${e.kind}`)}</Table.Td>
                  <Table.Td>{t(`messages.channels.${e.channel}`)}</Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={statusColor(e.status)} data-testid="log-status">
                      {t(`messages.statuses.${e.status}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" dir="auto" lineClamp={1}>
                      {e.subject}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="subtle" onClick={() => setOpen(e)} aria-label={t('messages.log.detailsNamed', { subject: e.subject })}>
                      {t('messages.log.details')}
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {log?.pageInfo.hasNextPage ? (
        <Center>
          <Button variant="default" loading={fetching} onClick={() => setFirst((n) => n + LOG_PAGE_SIZE)}>
            {t('common.loadMore')}
          </Button>
        </Center>
      ) : null}
      <Drawer opened={open !== null} onClose={() => setOpen(null)} position="right" size="lg" title={t('messages.log.detailTitle')}>
        {open ? <EventDetail event={open} /> : null}
      </Drawer>
    </Stack>
  );
}

function EventDetail({ event }: { event: LogEvent }) {
  const { t } = useTranslation('console');
  const dir = dirOf(event.language);
  return (
    <Stack gap="sm" data-testid="log-detail">
      <Group gap="xs">
        <Badge variant="light" color={statusColor(event.status)}>
          {t(`messages.statuses.${event.status}`)}
        </Badge>
        <Badge variant="outline">{t(`messages.channels.${event.channel}`)}</Badge>
        {event.response ? <Badge variant="outline" color="grape">{t(`messages.responses.${event.response}`)}</Badge> : null}
      </Group>
      <SimpleGrid cols={2} spacing={4}>
        <Text size="sm" c="dimmed">
          {t('messages.log.columns.member')}
        </Text>
        <Text size="sm">{memberName(event)}</Text>
        <Text size="sm" c="dimmed">
          {t('messages.log.occasion')}
        </Text>
        <Text size="sm" ff="monospace">
          {event.key}
        </Text>
        <Text size="sm" c="dimmed">
          {t('messages.log.plannedAt')}
        </Text>
        <Text size="sm">{formatDateTime(event.plannedAt)}</Text>
        <Text size="sm" c="dimmed">
          {t('messages.log.sentAt')}
        </Text>
        <Text size="sm">{event.sentAt ? formatDateTime(event.sentAt) : '—'}</Text>
        {event.readAt ? (
          <>
            <Text size="sm" c="dimmed">
              {t('messages.log.readAt')}
            </Text>
            <Text size="sm">{formatDateTime(event.readAt)}</Text>
          </>
        ) : null}
      </SimpleGrid>
      <Paper withBorder p="sm">
        <Text fw={600} dir={dir}>
          {event.subject}
        </Text>
        <Text size="sm" dir={dir} style={{ whiteSpace: 'pre-wrap' }}>
          {event.body}
        </Text>
      </Paper>
      <Title order={5}>{t('messages.log.attempts', { count: event.attempts, n: formatPoints(event.attempts) })}</Title>
      {event.deliveryAttempts.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('messages.log.noAttempts')}
        </Text>
      ) : (
        <Timeline bulletSize={14} lineWidth={2}>
          {event.deliveryAttempts.map((a, i) => (
            <Timeline.Item
              key={i}
              title={
                <Group gap="xs">
                  <Badge size="sm" variant="light" color={OUTCOME_COLORS[a.outcome]}>
                    {t(`messages.outcomes.${a.outcome}`)}
                  </Badge>
                  <Text size="xs" c="dimmed">
                    {formatDateTime(a.at)}
                  </Text>
                </Group>
              }
            >
              <Text size="sm" dir="auto">
                {a.detail}
              </Text>
            </Timeline.Item>
          ))}
        </Timeline>
      )}
    </Stack>
  );
}

/** Messages per kind planned in the last 30 days. */
function FiguresCard() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  // Fixed when the tab opens, so the query's variables stay put between renders.
  const [range] = useState(() => {
    const to = new Date();
    const from = new Date(to.getTime() - 30 * 24 * 3600 * 1000);
    return { from: from.toISOString(), to: to.toISOString() };
  });
  const [{ data, error }] = useQuery({ query: FiguresQuery, variables: { slug: shop.slug, ...range } });
  const figures = (data?.shop?.engagementFigures ?? []).filter((f) => f.planned > 0);
  if (error) return <ErrorAlert error={error} />;
  if (!data) return null;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="engagement-figures-title" data-testid="engagement-figures">
      <Title order={4} id="engagement-figures-title" mb="xs">
        {t('messages.figures.title')}
      </Title>
      {figures.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('messages.figures.empty')}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={560}>
          <Table verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('messages.figures.kind')}</Table.Th>
                <Table.Th ta="end">{t('messages.figures.planned')}</Table.Th>
                <Table.Th ta="end">{t('messages.figures.sent')}</Table.Th>
                <Table.Th ta="end">{t('messages.figures.failed')}</Table.Th>
                <Table.Th ta="end">{t('messages.figures.skipped')}</Table.Th>
                <Table.Th ta="end">{t('messages.figures.opened')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {figures.map((f) => (
                <Table.Tr key={f.kind} data-testid="figures-row" data-kind={f.kind}>
                  <Table.Td>{t(`messages.kinds.${f.kind}`)}</Table.Td>
                  <Table.Td ta="end">{formatPoints(f.planned)}</Table.Td>
                  <Table.Td ta="end">{formatPoints(f.sent)}</Table.Td>
                  <Table.Td ta="end">{formatPoints(f.failed)}</Table.Td>
                  <Table.Td ta="end">{formatPoints(f.skipped)}</Table.Td>
                  <Table.Td ta="end">{formatPoints(f.opened)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Paper>
  );
}

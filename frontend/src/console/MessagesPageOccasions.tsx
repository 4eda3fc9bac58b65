import { useState } from 'react';
import { Badge, Group, Select, Stack, Table, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { ConsoleUpcomingOccasionsQuery } from '../gql/graphql';
import { formatDate, formatPoints } from '../lib/format';
import { EmptyPanel, ErrorAlert, PageLoader, useConsoleShop } from './shared';

const OccasionsQuery = graphql(`
  query ConsoleUpcomingOccasions($slug: String!, $days: Int!) {
    shop(slug: $slug) {
      id
      upcomingOccasions(days: $days) {
        kind
        date
        yearsAsMember
        channels
        member {
          id
          member {
            displayName
            email
            phone
          }
          giftSuggestions
        }
      }
    }
  }
`);

/** How far ahead the tab can look, in days. */
export const OCCASION_WINDOWS = [7, 14, 30, 90] as const;

type OccasionRow = NonNullable<ConsoleUpcomingOccasionsQuery['shop']>['upcomingOccasions'][number];

/** The channel names the console already translates (`messages.channels.*`), by the server's lower-case name. */
const CHANNEL_KEYS: Record<string, string> = { email: 'EMAIL', sms: 'SMS', push: 'PUSH', inbox: 'INBOX' };

/** Members' birthdays and membership anniversaries coming up, for staff who reach out. */
export function OccasionsPanel() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [days, setDays] = useState<number>(30);
  const [{ data, fetching, error }] = useQuery({ query: OccasionsQuery, variables: { slug: shop.slug, days } });
  const occasions: OccasionRow[] = data?.shop?.upcomingOccasions ?? [];

  const name = (o: OccasionRow) => o.member.member.displayName || o.member.member.email || o.member.member.phone || t('members.anonymous');
  const kind = (o: OccasionRow) =>
    o.kind === 'ANNIVERSARY' && o.yearsAsMember
      ? t('messages.occasions.anniversary', { count: o.yearsAsMember, n: formatPoints(o.yearsAsMember) })
      : t(`messages.occasions.kinds.${o.kind}`);
  const channel = (c: string) => (CHANNEL_KEYS[c] ? t(`messages.channels.${CHANNEL_KEYS[c]}`) : c);

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Text size="sm" c="dimmed" style={{ flex: 1 }}>
          {t('messages.occasions.hint')}
        </Text>
        <Select
          label={t('messages.occasions.window')}
          data={OCCASION_WINDOWS.map((d) => ({ value: String(d), label: t('messages.occasions.nextDays', { n: formatPoints(d) }) }))}
          value={String(days)}
          onChange={(v) => v && setDays(Number(v))}
          allowDeselect={false}
          w={180}
        />
      </Group>
      {fetching && !data ? (
        <PageLoader />
      ) : error ? (
        <ErrorAlert error={error} />
      ) : occasions.length === 0 ? (
        <EmptyPanel title={t('messages.occasions.empty', { n: formatPoints(days) })} description={t('messages.occasions.emptyHint')} />
      ) : (
        <Table.ScrollContainer minWidth={640}>
          <Table striped verticalSpacing="xs" data-testid="occasions-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('messages.occasions.columns.date')}</Table.Th>
                <Table.Th>{t('messages.occasions.columns.kind')}</Table.Th>
                <Table.Th>{t('messages.occasions.columns.member')}</Table.Th>
                <Table.Th>{t('messages.occasions.columns.channels')}</Table.Th>
                <Table.Th>{t('messages.occasions.columns.gifts')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {occasions.map((o) => (
                <Table.Tr key={`${o.member.id}-${o.kind}-${o.date}`} data-testid="occasion-row" data-kind={o.kind}>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDate(o.date)}</Table.Td>
                  <Table.Td>{kind(o)}</Table.Td>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {name(o)}
                    </Text>
                    {o.member.member.displayName && (o.member.member.email || o.member.member.phone) ? (
                      <Text size="xs" c="dimmed" truncate maw={240}>
                        {o.member.member.email || o.member.member.phone}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} data-testid="occasion-channels">
                      {o.channels.map((c) => (
                        <Badge key={c} variant="light" size="sm">
                          {channel(c)}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                  <Table.Td data-testid="occasion-gifts">
                    {o.member.giftSuggestions.length ? (
                      <Text size="sm">{o.member.giftSuggestions.join(t('messages.occasions.separator'))}</Text>
                    ) : (
                      <Text size="sm" c="dimmed">
                        {t('messages.occasions.noSuggestion')}
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}

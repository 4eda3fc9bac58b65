import { useEffect, useRef, useState } from 'react';
import { Alert, Badge, Button, Card, Group, Paper, Skeleton, Stack, Text, Title } from '@mantine/core';
import { IconMail } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { EmptyState } from '../components/EmptyState';
import { QueryError } from '../components/QueryError';
import { formatDateTime, formatPoints } from '../lib/format';
import { useRefetchOnReconnect } from '../lib/live';
import { onInboxMessage } from './inboxLive';

/** Messages the inbox shows (the newest). */
export const INBOX_SIZE = 20;

const AccountInboxDocument = graphql(`
  query AccountInbox($id: ID!, $first: Int!) {
    viewer {
      account(id: $id) {
        id
        inboxUnreadCount
        inbox(first: $first) {
          edges {
            node {
              id
              language
              subject
              body
              plannedAt
              sentAt
              readAt
            }
          }
        }
      }
    }
  }
`);

const InboxMarkReadDocument = graphql(`
  mutation InboxMarkRead($ids: [ID!]!) {
    inboxMarkRead(ids: $ids) {
      count
      errors {
        field
        code
        message
      }
    }
  }
`);

/** The shop's messages to the member in this account's inbox, unread ones highlighted. */
export function InboxCard({ accountId }: { accountId: string }) {
  const { t } = useTranslation('member');
  const [result, reexecute] = useQuery({
    query: AccountInboxDocument,
    variables: { id: accountId, first: INBOX_SIZE },
    requestPolicy: 'cache-and-network',
  });
  const [markState, markRead] = useMutation(InboxMarkReadDocument);
  const [markError, setMarkError] = useState<string | null>(null);
  const refetch = () => reexecute({ requestPolicy: 'network-only' });
  useRefetchOnReconnect(refetch);

  // A new message for this account arrives through the live account updates.
  const latest = useRef(refetch);
  useEffect(() => {
    latest.current = refetch;
  });
  useEffect(() => onInboxMessage((id) => id === accountId && latest.current()), [accountId]);

  const account = result.data?.viewer?.account;
  const messages = account?.inbox.edges.map((e) => e.node) ?? [];
  const unread = account?.inboxUnreadCount ?? 0;
  const unreadIds = messages.filter((m) => !m.readAt).map((m) => m.id);

  const markAll = async () => {
    setMarkError(null);
    const r = await markRead({ ids: unreadIds });
    const error = r.error ? (r.error.graphQLErrors[0]?.message ?? r.error.message) : r.data?.inboxMarkRead.errors[0]?.message;
    if (error) setMarkError(error);
    refetch();
  };

  let body;
  if (result.error && !account) {
    body = <QueryError error={result.error} onRetry={refetch} />;
  } else if (!result.data) {
    body = <Skeleton h={80} />;
  } else if (messages.length === 0) {
    body = <EmptyState title={t('inbox.empty')} icon={<IconMail size={28} aria-hidden />} />;
  } else {
    body = (
      <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: 'none' }} data-testid="inbox-list">
        {messages.map((m) => (
          <Paper
            key={m.id}
            component="li"
            withBorder
            p="sm"
            data-testid="inbox-message"
            data-unread={!m.readAt}
            bg={m.readAt ? undefined : 'var(--mantine-primary-color-light)'}
          >
            <Group justify="space-between" align="flex-start" gap="xs" wrap="nowrap">
              <Text fw={m.readAt ? 500 : 700} dir="auto" style={{ minWidth: 0 }}>
                {m.subject}
              </Text>
              <Group gap={6} wrap="nowrap">
                {!m.readAt ? (
                  <Badge size="xs" variant="filled">
                    {t('inbox.new')}
                  </Badge>
                ) : null}
                <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                  {formatDateTime(m.sentAt ?? m.plannedAt)}
                </Text>
              </Group>
            </Group>
            <Text size="sm" mt={4} dir="auto" lang={m.language} style={{ whiteSpace: 'pre-wrap' }}>
              {m.body}
            </Text>
          </Paper>
        ))}
      </Stack>
    );
  }

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="inbox-title" data-testid="inbox-card">
      <Stack gap="sm">
        <Group justify="space-between" gap="xs">
          <Group gap="xs">
            <Title order={2} size="h4" id="inbox-title">
              {t('inbox.title')}
            </Title>
            {unread > 0 ? (
              <Badge color="red" data-testid="inbox-unread" data-value={unread}>
                {t('inbox.unread', { count: unread, n: formatPoints(unread) })}
              </Badge>
            ) : null}
          </Group>
          {unreadIds.length > 0 ? (
            <Button size="xs" variant="light" onClick={markAll} loading={markState.fetching}>
              {t('inbox.markAllRead')}
            </Button>
          ) : null}
        </Group>
        {markError ? (
          <Alert color="red" role="alert">
            {markError}
          </Alert>
        ) : null}
        {body}
      </Stack>
    </Card>
  );
}

import { useState } from 'react';
import { Badge, Button, Drawer, Group, Paper, SimpleGrid, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { IconPlayerPause, IconPlayerPlay, IconRefresh, IconX } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type { SubscriptionStatus } from '../gql/graphql';
import { formatDate, formatDateTime, formatMoney, formatPoints } from '../lib/format';
import {
  ConfirmDialog,
  ErrorAlert,
  errorCode,
  GeneralErrors,
  mutationErrorMessage,
  notifySuccess,
  PageLoader,
  useConsoleShop,
  type PayloadError,
} from './shared';

const STATUS_COLORS: Record<SubscriptionStatus, string> = {
  PENDING: 'gray',
  TRIALING: 'cyan',
  ACTIVE: 'green',
  PAST_DUE: 'orange',
  PAUSED: 'yellow',
  CANCELLED: 'red',
  EXPIRED: 'gray',
};

/** Every subscription status, in lifecycle order. */
export const SUBSCRIPTION_STATUSES: SubscriptionStatus[] = ['PENDING', 'TRIALING', 'ACTIVE', 'PAST_DUE', 'PAUSED', 'CANCELLED', 'EXPIRED'];

/** A subscription's status as a coloured, translated badge. */
export function SubscriptionStatusBadge({ status }: { status: SubscriptionStatus }) {
  const { t } = useTranslation('console');
  return (
    <Badge color={STATUS_COLORS[status]} variant="light" data-testid="subscription-status" data-status={status}>
      {t(`subscriptionStatus.${status}`)}
    </Badge>
  );
}

/** The messages of a refused mutation: its GraphQL error (code translated) or its coded payload errors. */
export function useActionErrors() {
  const { t } = useTranslation('console');
  return (error: CombinedError | undefined, payloadErrors: readonly PayloadError[] | undefined): string[] => {
    if (error) {
      const code = errorCode(error);
      const message = mutationErrorMessage(error);
      return [code ? `${t(`errorCodes.${code}`, { defaultValue: code })} — ${message}` : message];
    }
    return (payloadErrors ?? []).map((e) => `${t(`errorCodes.${e.code}`, { defaultValue: e.code })} — ${e.message || e.code}`);
  };
}

const SubscriptionDetailQuery = graphql(`
  query ConsoleSubscriptionDetail($slug: String!, $accountId: ID!) {
    shop(slug: $slug) {
      id
      member(id: $accountId) {
        id
        member {
          displayName
          email
          phone
        }
        subscriptionHistory {
          id
          status
          createdAt
          startedAt
          trialEnd
          currentPeriodStart
          currentPeriodEnd
          autoRenew
          cancelAtPeriodEnd
          chargeAttempts
          endedAt
          nextChargeAt
          plan {
            id
            name
            price
            currency
          }
          transitions {
            reason
            actorKind
            createdAt
            toStatus
            fromStatus
          }
          payments {
            id
            outcome
            amount
            currency
            providerReference
            periodStart
            periodEnd
            points
            createdAt
          }
        }
      }
    }
  }
`);

/** What the single-subscription mutations answer. */
export const ConsoleSubscriptionResultFragment = graphql(`
  fragment ConsoleSubscriptionResult on SubscriptionPayload {
    subscription {
      id
      status
      autoRenew
      cancelAtPeriodEnd
      currentPeriodEnd
      nextChargeAt
    }
    errors {
      field
      code
      message
    }
  }
`);

const PauseMutation = graphql(`
  mutation ConsoleSubscriptionPause($id: ID!) {
    subscriptionPause(id: $id) {
      ...ConsoleSubscriptionResult
    }
  }
`);

const ResumeMutation = graphql(`
  mutation ConsoleSubscriptionResume($id: ID!) {
    subscriptionResume(id: $id) {
      ...ConsoleSubscriptionResult
    }
  }
`);

const CancelMutation = graphql(`
  mutation ConsoleSubscriptionCancel($id: ID!, $atPeriodEnd: Boolean!) {
    subscriptionCancel(id: $id, atPeriodEnd: $atPeriodEnd) {
      ...ConsoleSubscriptionResult
    }
  }
`);

const RetryMutation = graphql(`
  mutation ConsoleSubscriptionRetryNow($id: ID!) {
    subscriptionRetryNow(id: $id) {
      ...ConsoleSubscriptionResult
    }
  }
`);

const AutoRenewMutation = graphql(`
  mutation ConsoleSubscriptionAutoRenewSet($id: ID!, $autoRenew: Boolean!) {
    subscriptionAutoRenewSet(id: $id, autoRenew: $autoRenew) {
      ...ConsoleSubscriptionResult
    }
  }
`);

/** The subscription a drawer shows: its id and the member account it belongs to. */
export interface OpenSubscription {
  id: string;
  accountId: string;
  name: string;
}

/** A subscription's history, payments and single actions, in a side drawer. */
export function SubscriptionDrawer({
  subscription,
  onClose,
  onChanged,
}: {
  subscription: OpenSubscription | null;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { t } = useTranslation('console');
  return (
    <Drawer
      opened={subscription !== null}
      onClose={onClose}
      position="right"
      size="lg"
      title={subscription ? t('subscriptions.drawer.title', { name: subscription.name }) : ''}
    >
      {subscription ? <SubscriptionDetail key={subscription.id} open={subscription} onChanged={onChanged} /> : null}
    </Drawer>
  );
}

type Action = 'pause' | 'resume' | 'cancelNow' | 'cancelAtPeriodEnd' | 'retry' | 'autoRenewOn' | 'autoRenewOff';

function SubscriptionDetail({ open, onChanged }: { open: OpenSubscription; onChanged: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const actionErrors = useActionErrors();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: SubscriptionDetailQuery,
    variables: { slug: shop.slug, accountId: open.accountId },
    requestPolicy: 'cache-and-network',
  });
  const [, pause] = useMutation(PauseMutation);
  const [, resume] = useMutation(ResumeMutation);
  const [, cancel] = useMutation(CancelMutation);
  const [, retry] = useMutation(RetryMutation);
  const [, setAutoRenew] = useMutation(AutoRenewMutation);
  const [running, setRunning] = useState<Action | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [messages, setMessages] = useState<string[]>([]);

  if (!data && fetching) return <PageLoader />;
  if (error && !data?.shop) return <ErrorAlert error={error} />;
  const sub = data?.shop?.member?.subscriptionHistory.find((s) => s.id === open.id);
  if (!sub) return <Text c="dimmed">{t('subscriptions.drawer.notFound')}</Text>;

  const run = async (action: Action) => {
    setRunning(action);
    setMessages([]);
    const id = sub.id;
    let result;
    if (action === 'pause') result = await pause({ id }).then((r) => ({ error: r.error, payload: r.data?.subscriptionPause }));
    else if (action === 'resume') result = await resume({ id }).then((r) => ({ error: r.error, payload: r.data?.subscriptionResume }));
    else if (action === 'retry') result = await retry({ id }).then((r) => ({ error: r.error, payload: r.data?.subscriptionRetryNow }));
    else if (action === 'cancelNow' || action === 'cancelAtPeriodEnd')
      result = await cancel({ id, atPeriodEnd: action === 'cancelAtPeriodEnd' }).then((r) => ({ error: r.error, payload: r.data?.subscriptionCancel }));
    else
      result = await setAutoRenew({ id, autoRenew: action === 'autoRenewOn' }).then((r) => ({
        error: r.error,
        payload: r.data?.subscriptionAutoRenewSet,
      }));
    setRunning(null);
    setConfirmCancel(false);
    if (result.error || (result.payload?.errors.length ?? 0) > 0) {
      setMessages(actionErrors(result.error, result.payload?.errors));
      return;
    }
    notifySuccess(t(`subscriptions.drawer.done.${action}`));
    refetch({ requestPolicy: 'network-only' });
    onChanged();
  };

  const live = sub.status !== 'CANCELLED' && sub.status !== 'EXPIRED';
  return (
    <Stack data-testid="subscription-detail">
      <Paper withBorder p="sm">
        <Stack gap="xs">
          <Group justify="space-between">
            <Text fw={600}>{sub.plan.name}</Text>
            <SubscriptionStatusBadge status={sub.status} />
          </Group>
          <SimpleGrid cols={2} spacing="xs">
            <Fact label={t('subscriptions.columns.periodEnd')} value={sub.currentPeriodEnd ? formatDate(sub.currentPeriodEnd) : '—'} />
            <Fact label={t('subscriptions.columns.nextCharge')} value={sub.nextChargeAt ? formatDateTime(sub.nextChargeAt) : '—'} />
            <Fact label={t('subscriptions.drawer.started')} value={sub.startedAt ? formatDate(sub.startedAt) : '—'} />
            <Fact label={t('subscriptions.drawer.trialEnd')} value={sub.trialEnd ? formatDate(sub.trialEnd) : '—'} />
            <Fact label={t('subscriptions.drawer.chargeAttempts')} value={formatPoints(sub.chargeAttempts)} />
            <Fact label={t('subscriptions.drawer.ended')} value={sub.endedAt ? formatDate(sub.endedAt) : '—'} />
          </SimpleGrid>
          {sub.cancelAtPeriodEnd ? (
            <Text size="sm" c="orange">
              {t('subscriptions.drawer.endsAtPeriodEnd')}
            </Text>
          ) : null}
        </Stack>
      </Paper>
      <GeneralErrors messages={messages} />
      {live ? (
        <Stack gap="xs">
          <Switch
            label={t('subscriptions.columns.autoRenew')}
            checked={sub.autoRenew}
            disabled={running !== null}
            onChange={(e) => void run(e.currentTarget.checked ? 'autoRenewOn' : 'autoRenewOff')}
          />
          <Group gap="xs">
            {sub.status === 'ACTIVE' ? (
              <Button size="xs" variant="light" leftSection={<IconPlayerPause size={14} />} loading={running === 'pause'} onClick={() => void run('pause')}>
                {t('subscriptions.actions.pause')}
              </Button>
            ) : null}
            {sub.status === 'PAUSED' ? (
              <Button size="xs" variant="light" leftSection={<IconPlayerPlay size={14} />} loading={running === 'resume'} onClick={() => void run('resume')}>
                {t('subscriptions.actions.resume')}
              </Button>
            ) : null}
            {sub.status === 'PAST_DUE' ? (
              <Button size="xs" variant="light" leftSection={<IconRefresh size={14} />} loading={running === 'retry'} onClick={() => void run('retry')}>
                {t('subscriptions.actions.retryNow')}
              </Button>
            ) : null}
            {!sub.cancelAtPeriodEnd && sub.status !== 'PENDING' ? (
              <Button size="xs" variant="light" color="orange" loading={running === 'cancelAtPeriodEnd'} onClick={() => void run('cancelAtPeriodEnd')}>
                {t('subscriptions.actions.cancelAtPeriodEnd')}
              </Button>
            ) : null}
            <Button size="xs" variant="light" color="red" leftSection={<IconX size={14} />} onClick={() => setConfirmCancel(true)}>
              {t('subscriptions.actions.cancelNow')}
            </Button>
          </Group>
        </Stack>
      ) : null}
      <Title order={4}>{t('subscriptions.drawer.history')}</Title>
      {sub.transitions.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('subscriptions.drawer.noHistory')}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={480}>
          <Table verticalSpacing="xs" data-testid="subscription-transitions">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('subscriptions.drawer.when')}</Table.Th>
                <Table.Th>{t('subscriptions.drawer.change')}</Table.Th>
                <Table.Th>{t('subscriptions.drawer.reason')}</Table.Th>
                <Table.Th>{t('subscriptions.drawer.actor')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {[...sub.transitions].reverse().map((tr, i) => (
                <Table.Tr key={`${tr.createdAt}-${i}`}>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(tr.createdAt)}</Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    {tr.fromStatus ? t(`subscriptionStatus.${tr.fromStatus}`) : '—'} → {t(`subscriptionStatus.${tr.toStatus}`)}
                  </Table.Td>
                  <Table.Td>{tr.reason}</Table.Td>
                  <Table.Td>{t(`subscriptionActor.${tr.actorKind}`)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Title order={4}>{t('subscriptions.drawer.payments')}</Title>
      {sub.payments.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('subscriptions.drawer.noPayments')}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={480}>
          <Table verticalSpacing="xs" data-testid="subscription-payments">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('subscriptions.drawer.when')}</Table.Th>
                <Table.Th>{t('subscriptions.drawer.outcome')}</Table.Th>
                <Table.Th ta="end">{t('subscriptions.drawer.amount')}</Table.Th>
                <Table.Th>{t('subscriptions.drawer.period')}</Table.Th>
                <Table.Th ta="end">{t('subscriptions.drawer.points')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {sub.payments.map((p) => (
                <Table.Tr key={p.id}>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(p.createdAt)}</Table.Td>
                  <Table.Td>
                    <Badge color={p.outcome === 'SUCCEEDED' ? 'green' : 'red'} variant="light">
                      {t(`paymentOutcome.${p.outcome}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td ta="end" style={{ whiteSpace: 'nowrap' }}>
                    {formatMoney(p.amount, p.currency)}
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    {p.periodStart && p.periodEnd ? `${formatDate(p.periodStart)} – ${formatDate(p.periodEnd)}` : '—'}
                  </Table.Td>
                  <Table.Td ta="end">{formatPoints(p.points)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <ConfirmDialog
        opened={confirmCancel}
        title={t('subscriptions.cancelTitle')}
        message={t('subscriptions.drawer.cancelConfirm', { name: open.name })}
        confirmLabel={t('subscriptions.actions.cancelNow')}
        loading={running === 'cancelNow'}
        onConfirm={() => void run('cancelNow')}
        onClose={() => setConfirmCancel(false)}
      />
    </Stack>
  );
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm">{value}</Text>
    </div>
  );
}

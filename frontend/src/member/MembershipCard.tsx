import { useState } from 'react';
import { Alert, Badge, Button, Card, Collapse, Group, List, Modal, Paper, Stack, Switch, Text, Title } from '@mantine/core';
import { IconAlertTriangle, IconClockHour4, IconCrown } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type { MembershipPlanFieldsFragment, MembershipSubscriptionFieldsFragment, SubscriptionStatus } from '../gql/graphql';
import { TierBadge } from '../components/TierBadge';
import { combinedErrorMessage } from '../lib/errors';
import { formatDate, formatDateTime, formatMoney, formatNumber, formatPoints } from '../lib/format';
import { useRefetchOnReconnect } from '../lib/live';

/** A plan as the card shows it: name in the reader's language, price, period, trial, tier, benefits. */
export const MembershipPlanFields = graphql(`
  fragment MembershipPlanFields on MembershipPlan {
    id
    name
    localizedName(language: $language)
    price
    currency
    intervalUnit
    intervalCount
    trialDays
    earnMultiplier
    benefits
    translations {
      language
      name
      benefits
    }
    tier {
      ...TierBadgeFields
    }
  }
`);

/** A subscription with its plan, its moves and its payments. */
export const MembershipSubscriptionFields = graphql(`
  fragment MembershipSubscriptionFields on MembershipSubscription {
    id
    status
    trialEnd
    currentPeriodStart
    currentPeriodEnd
    autoRenew
    cancelAtPeriodEnd
    nextChargeAt
    endedAt
    plan {
      ...MembershipPlanFields
    }
    transitions {
      fromStatus
      toStatus
      reason
      actorKind
      createdAt
    }
    payments {
      id
      outcome
      amount
      currency
      periodStart
      periodEnd
      points
      createdAt
    }
  }
`);

const AccountMembershipDocument = graphql(`
  query AccountMembership($id: ID!, $language: String!) {
    viewer {
      account(id: $id) {
        id
        subscription {
          ...MembershipSubscriptionFields
        }
        shop {
          id
          membershipPlans {
            ...MembershipPlanFields
          }
        }
      }
    }
  }
`);

// Every answer names the member's account (with its tier): the document cache then refetches the
// account views, so the tier a subscription grants or takes away shows at once.
const MembershipSubscribeDocument = graphql(`
  mutation MembershipSubscribe($planId: ID!, $language: String!) {
    membershipSubscribe(planId: $planId) {
      subscription {
        ...MembershipSubscriptionFields
        member {
          id
          tier {
            ...TierBadgeFields
          }
        }
      }
      errors {
        code
        message
        field
      }
    }
  }
`);

const SubscriptionAutoRenewSetDocument = graphql(`
  mutation SubscriptionAutoRenewSet($id: ID!, $autoRenew: Boolean!, $language: String!) {
    subscriptionAutoRenewSet(id: $id, autoRenew: $autoRenew) {
      subscription {
        ...MembershipSubscriptionFields
        member {
          id
          tier {
            ...TierBadgeFields
          }
        }
      }
      errors {
        code
        message
        field
      }
    }
  }
`);

const SubscriptionCancelDocument = graphql(`
  mutation SubscriptionCancel($id: ID!, $atPeriodEnd: Boolean!, $language: String!) {
    subscriptionCancel(id: $id, atPeriodEnd: $atPeriodEnd) {
      subscription {
        ...MembershipSubscriptionFields
        member {
          id
          tier {
            ...TierBadgeFields
          }
        }
      }
      errors {
        code
        message
        field
      }
    }
  }
`);

const SubscriptionResumeDocument = graphql(`
  mutation SubscriptionResume($id: ID!, $language: String!) {
    subscriptionResume(id: $id) {
      subscription {
        ...MembershipSubscriptionFields
        member {
          id
          tier {
            ...TierBadgeFields
          }
        }
      }
      errors {
        code
        message
        field
      }
    }
  }
`);

type Plan = MembershipPlanFieldsFragment;
type Subscription = MembershipSubscriptionFieldsFragment;
type Refusal = { code: string; message: string } | CombinedError;

/** Statuses of a subscription that is still running (or about to). */
const LIVE: readonly SubscriptionStatus[] = ['PENDING', 'TRIALING', 'ACTIVE', 'PAST_DUE', 'PAUSED'];

const STATUS_COLORS: Record<SubscriptionStatus, string> = {
  PENDING: 'yellow',
  TRIALING: 'cyan',
  ACTIVE: 'green',
  PAST_DUE: 'red',
  PAUSED: 'gray',
  CANCELLED: 'gray',
  EXPIRED: 'gray',
};

function matches(candidate: string, language: string): boolean {
  return candidate === language || candidate.split('-')[0] === language;
}

/** The plan's benefit lines in `language` when the shop translated them, else the English ones. */
function planBenefits(plan: Plan, language: string): readonly string[] {
  const translated = plan.translations.find((t) => matches(t.language, language))?.benefits ?? [];
  return translated.length > 0 ? translated : plan.benefits;
}

function useRefusalText() {
  const { t } = useTranslation('member');
  return (error: Refusal): string =>
    'graphQLErrors' in error
      ? combinedErrorMessage(error)
      : t(`membership.errors.${error.code}`, { defaultValue: error.message || t('membership.errors.unknown') });
}

/** "9.99 US$ per month", "99 US$ every 2 years". */
function PlanPrice({ plan }: { plan: Plan }) {
  const { t } = useTranslation('member');
  return (
    <Text fw={700} data-testid="membership-price">
      {t(`membership.per.${plan.intervalUnit}`, {
        count: plan.intervalCount,
        n: formatNumber(plan.intervalCount, 0),
        price: formatMoney(plan.price, plan.currency),
      })}
    </Text>
  );
}

/** The tier a plan grants and its extra earning multiplier. */
function PlanPerks({ plan }: { plan: Plan }) {
  const { t, i18n } = useTranslation('member');
  const benefits = planBenefits(plan, i18n.language);
  const multiplier = Number(plan.earnMultiplier);
  return (
    <Stack gap={6}>
      <Group gap="xs">
        <Text size="sm">{t('membership.grantsTier')}</Text>
        <TierBadge tier={plan.tier} data-testid="membership-tier" />
        {multiplier > 1 ? (
          <Badge variant="light" color="grape" data-testid="membership-multiplier">
            {t('membership.multiplier', { value: formatNumber(multiplier, 3) })}
          </Badge>
        ) : null}
      </Group>
      {benefits.length > 0 ? (
        <List size="sm" spacing={2} aria-label={t('membership.benefits')} data-testid="membership-benefits">
          {benefits.map((line) => (
            <List.Item key={line}>
              <span dir="auto">{line}</span>
            </List.Item>
          ))}
        </List>
      ) : null}
    </Stack>
  );
}

/** The subscription's moves and payments, newest move last as the API gives them. */
function MembershipHistory({ subscription }: { subscription: Subscription }) {
  const { t } = useTranslation('member');
  const [open, setOpen] = useState(false);
  return (
    <Stack gap="xs">
      <Button
        variant="subtle"
        size="xs"
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        aria-controls="membership-history"
        style={{ alignSelf: 'flex-start' }}
      >
        {open ? t('membership.hideHistory') : t('membership.showHistory')}
      </Button>
      <Collapse expanded={open} id="membership-history">
        <Stack gap="sm" data-testid="membership-history">
          <Title order={3} size="h6">
            {t('membership.changes')}
          </Title>
          <Stack gap={4} component="ul" p={0} m={0} style={{ listStyle: 'none' }}>
            {subscription.transitions.map((move, i) => (
              <Paper key={`${move.createdAt}-${i}`} component="li" withBorder p="xs" data-testid="membership-transition">
                <Group justify="space-between" gap="xs" align="flex-start">
                  <Text size="sm" fw={500}>
                    {move.fromStatus
                      ? t('membership.move', {
                          from: t(`membership.status.${move.fromStatus}`),
                          to: t(`membership.status.${move.toStatus}`),
                        })
                      : t(`membership.status.${move.toStatus}`)}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {formatDateTime(move.createdAt)}
                  </Text>
                </Group>
                <Text size="sm" dir="auto">
                  {move.reason}
                </Text>
                <Text size="xs" c="dimmed">
                  {t(`membership.actor.${move.actorKind}`)}
                </Text>
              </Paper>
            ))}
          </Stack>
          <Title order={3} size="h6">
            {t('membership.payments')}
          </Title>
          {subscription.payments.length === 0 ? (
            <Text size="sm" c="dimmed">
              {t('membership.noPayments')}
            </Text>
          ) : (
            <Stack gap={4} component="ul" p={0} m={0} style={{ listStyle: 'none' }}>
              {subscription.payments.map((payment) => (
                <Paper key={payment.id} component="li" withBorder p="xs" data-testid="membership-payment" data-outcome={payment.outcome}>
                  <Group justify="space-between" gap="xs">
                    <Group gap="xs">
                      <Text size="sm" fw={600}>
                        {formatMoney(payment.amount, payment.currency)}
                      </Text>
                      <Badge size="xs" variant="light" color={payment.outcome === 'SUCCEEDED' ? 'green' : 'red'}>
                        {t(`membership.outcome.${payment.outcome}`)}
                      </Badge>
                      {payment.points > 0 ? (
                        <Text size="sm" c="teal">
                          {t('membership.paymentPoints', { points: formatPoints(payment.points) })}
                        </Text>
                      ) : null}
                    </Group>
                    <Text size="xs" c="dimmed">
                      {formatDateTime(payment.createdAt)}
                    </Text>
                  </Group>
                  {payment.periodStart && payment.periodEnd ? (
                    <Text size="xs" c="dimmed">
                      {t('membership.paidPeriod', { from: formatDate(payment.periodStart), to: formatDate(payment.periodEnd) })}
                    </Text>
                  ) : null}
                </Paper>
              ))}
            </Stack>
          )}
        </Stack>
      </Collapse>
    </Stack>
  );
}

interface LiveMembershipProps {
  subscription: Subscription;
  onAnswer: (subscription: Subscription) => void;
}

/** A running subscription: its plan, where it stands, auto-renewal, cancelling and its history. */
function LiveMembership({ subscription, onAnswer }: LiveMembershipProps) {
  const { t, i18n } = useTranslation('member');
  const language = i18n.language;
  const refusalText = useRefusalText();
  const [, setAutoRenew] = useMutation(SubscriptionAutoRenewSetDocument);
  const [cancelState, cancel] = useMutation(SubscriptionCancelDocument);
  const [resumeState, resume] = useMutation(SubscriptionResumeDocument);
  // The value asked for while the server answers; null: show the subscription's own.
  const [asked, setAsked] = useState<boolean | null>(null);
  const [error, setError] = useState<Refusal | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [cancelError, setCancelError] = useState<Refusal | null>(null);

  const { plan, status } = subscription;
  const ending = !subscription.autoRenew || subscription.cancelAtPeriodEnd;
  // Turning auto-renewal on also withdraws a cancellation asked for the period's end (the server's rule).
  const switchable = status !== 'PAUSED';

  const toggle = async (value: boolean) => {
    setError(null);
    setAsked(value);
    const result = await setAutoRenew({ id: subscription.id, autoRenew: value, language });
    setAsked(null);
    const payload = result.data?.subscriptionAutoRenewSet;
    if (result.error) return setError(result.error);
    if (payload?.errors.length) return setError(payload.errors[0]);
    if (payload?.subscription) onAnswer(payload.subscription);
  };

  const confirmCancel = async () => {
    setCancelError(null);
    const result = await cancel({ id: subscription.id, atPeriodEnd: true, language });
    const payload = result.data?.subscriptionCancel;
    if (result.error) return setCancelError(result.error);
    if (payload?.errors.length) return setCancelError(payload.errors[0]);
    setConfirming(false);
    if (payload?.subscription) onAnswer(payload.subscription);
  };

  const doResume = async () => {
    setError(null);
    const result = await resume({ id: subscription.id, language });
    const payload = result.data?.subscriptionResume;
    if (result.error) return setError(result.error);
    if (payload?.errors.length) return setError(payload.errors[0]);
    if (payload?.subscription) onAnswer(payload.subscription);
  };

  // Paid (or free) time runs on after a cancellation only for a trial or an active membership.
  const endsLater = status === 'TRIALING' || status === 'ACTIVE';

  return (
    <Stack gap="sm" data-testid="membership-subscription" data-status={status} data-plan-name={plan.name}>
      <Group justify="space-between" align="flex-start" gap="xs">
        <Group gap="xs">
          <IconCrown size={22} aria-hidden />
          <Title order={3} size="h4" dir="auto" data-testid="membership-plan-name">
            {plan.localizedName}
          </Title>
        </Group>
        <Badge color={STATUS_COLORS[status]} variant="light" data-testid="membership-status">
          {t(`membership.status.${status}`)}
        </Badge>
      </Group>

      {status === 'PAST_DUE' ? (
        <Alert color="red" icon={<IconAlertTriangle size={18} aria-hidden />} title={t('membership.pastDueTitle')} data-testid="membership-past-due">
          {subscription.nextChargeAt
            ? t('membership.pastDueRetryOn', { date: formatDate(subscription.nextChargeAt) })
            : t('membership.pastDue')}
        </Alert>
      ) : null}
      {status === 'PENDING' ? (
        <Alert color="yellow" icon={<IconClockHour4 size={18} aria-hidden />} data-testid="membership-pending">
          {t('membership.pending')}
        </Alert>
      ) : null}
      {status === 'PAUSED' ? (
        <Alert color="gray" data-testid="membership-paused">
          <Stack gap="xs" align="flex-start">
            <span>{t('membership.paused')}</span>
            <Button size="xs" variant="light" onClick={() => void doResume()} loading={resumeState.fetching}>
              {t('membership.resume')}
            </Button>
          </Stack>
        </Alert>
      ) : null}

      {status === 'TRIALING' && subscription.trialEnd ? (
        <Text size="sm" fw={500} data-testid="membership-trial">
          {t('membership.trialUntil', { date: formatDate(subscription.trialEnd) })}
        </Text>
      ) : null}
      {status !== 'PENDING' && status !== 'PAUSED' ? (
        ending || !subscription.nextChargeAt ? (
          subscription.currentPeriodEnd ? (
            <Text size="sm" data-testid="membership-renewal" data-renews="false">
              {subscription.cancelAtPeriodEnd
                ? t('membership.cancelledEnds', { date: formatDate(subscription.currentPeriodEnd) })
                : t('membership.endsOn', { date: formatDate(subscription.currentPeriodEnd) })}
            </Text>
          ) : null
        ) : status === 'PAST_DUE' ? null : (
          <Text size="sm" data-testid="membership-renewal" data-renews="true">
            {t('membership.nextRenewal', {
              date: formatDate(subscription.nextChargeAt),
              price: formatMoney(plan.price, plan.currency),
            })}
          </Text>
        )
      ) : null}

      <PlanPerks plan={plan} />

      <Group justify="space-between" align="center" gap="sm">
        <Switch
          label={t('membership.autoRenew')}
          checked={asked ?? (subscription.autoRenew && !subscription.cancelAtPeriodEnd)}
          disabled={!switchable || asked !== null}
          onChange={(e) => void toggle(e.currentTarget.checked)}
          data-testid="membership-auto-renew"
        />
        {!subscription.cancelAtPeriodEnd ? (
          <Button
            variant="subtle"
            color="red"
            size="xs"
            onClick={() => {
              setCancelError(null);
              setConfirming(true);
            }}
          >
            {t('membership.cancel')}
          </Button>
        ) : null}
      </Group>
      {error ? (
        <Alert color="red" role="alert" data-testid="membership-error">
          {refusalText(error)}
        </Alert>
      ) : null}

      <MembershipHistory subscription={subscription} />

      <Modal opened={confirming} onClose={() => setConfirming(false)} title={t('membership.cancelTitle')} centered>
        <Stack data-testid="membership-cancel-dialog">
          <Text size="sm">
            {endsLater && subscription.currentPeriodEnd
              ? t('membership.cancelText', { date: formatDate(subscription.currentPeriodEnd) })
              : t('membership.cancelNowText')}
          </Text>
          {cancelError ? (
            <Alert color="red" role="alert">
              {refusalText(cancelError)}
            </Alert>
          ) : null}
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={() => setConfirming(false)} disabled={cancelState.fetching}>
              {t('membership.keep')}
            </Button>
            <Button color="red" onClick={() => void confirmCancel()} loading={cancelState.fetching}>
              {t('membership.confirmCancel')}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

interface PlansOnSaleProps {
  plans: readonly Plan[];
  /** The member's last subscription, ended; null when they never subscribed. */
  ended: Subscription | null;
  onAnswer: (subscription: Subscription) => void;
}

/** The shop's plans on sale, each with a Subscribe button. */
function PlansOnSale({ plans, ended, onAnswer }: PlansOnSaleProps) {
  const { t, i18n } = useTranslation('member');
  const refusalText = useRefusalText();
  const [{ fetching }, subscribe] = useMutation(MembershipSubscribeDocument);
  const [choosing, setChoosing] = useState<string | null>(null);
  const [error, setError] = useState<Refusal | null>(null);

  const choose = async (plan: Plan) => {
    setError(null);
    setChoosing(plan.id);
    const result = await subscribe({ planId: plan.id, language: i18n.language });
    setChoosing(null);
    const payload = result.data?.membershipSubscribe;
    if (result.error) return setError(result.error);
    if (payload?.errors.length) return setError(payload.errors[0]);
    if (payload?.subscription) onAnswer(payload.subscription);
  };

  return (
    <Stack gap="sm" data-testid="membership-plans">
      <Text size="sm" c="dimmed">
        {t('membership.plansText')}
      </Text>
      {ended ? (
        <Text size="sm" data-testid="membership-ended">
          {t('membership.ended', {
            plan: ended.plan.localizedName,
            status: t(`membership.status.${ended.status}`),
            date: formatDate(ended.endedAt ?? ended.currentPeriodEnd ?? ''),
          })}
        </Text>
      ) : null}
      {error ? (
        <Alert color="red" role="alert" data-testid="membership-error">
          {refusalText(error)}
        </Alert>
      ) : null}
      {plans.map((plan) => (
        <Paper key={plan.id} withBorder p="md" data-testid="membership-plan" data-plan-name={plan.name}>
          <Stack gap="xs">
            <Group justify="space-between" align="flex-start" gap="xs">
              <Title order={3} size="h5" dir="auto">
                {plan.localizedName}
              </Title>
              <PlanPrice plan={plan} />
            </Group>
            {plan.trialDays > 0 ? (
              <Badge variant="light" color="cyan" style={{ alignSelf: 'flex-start' }} data-testid="membership-plan-trial">
                {t('membership.trialDays', { count: plan.trialDays, n: formatNumber(plan.trialDays, 0) })}
              </Badge>
            ) : null}
            <PlanPerks plan={plan} />
            <Button
              onClick={() => void choose(plan)}
              loading={choosing === plan.id}
              disabled={fetching && choosing !== plan.id}
              style={{ alignSelf: 'flex-start' }}
              aria-label={t('membership.subscribeTo', { plan: plan.localizedName })}
            >
              {t('membership.subscribe')}
            </Button>
          </Stack>
        </Paper>
      ))}
    </Stack>
  );
}

/**
 * The member's paid membership in this shop: the live subscription (status, trial, renewal,
 * auto-renewal switch, cancel, history), else the plans on sale to subscribe to; nothing when the
 * shop sells none.
 */
export function MembershipCard({ accountId }: { accountId: string }) {
  const { t, i18n } = useTranslation('member');
  const [result, reexecute] = useQuery({
    query: AccountMembershipDocument,
    variables: { id: accountId, language: i18n.language },
    requestPolicy: 'cache-and-network',
  });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: 'network-only' }));
  const account = result.data?.viewer?.account;
  const fetched = account?.subscription ?? null;

  // A mutation's answer is shown until the query brings newer data (the document cache refetches
  // it on its own after every answer naming a subscription).
  const [answer, setAnswer] = useState<{ basis: Subscription | null; subscription: Subscription } | null>(null);
  const onAnswer = (subscription: Subscription) => setAnswer({ basis: fetched, subscription });
  const subscription = answer && answer.basis === fetched ? answer.subscription : fetched;

  if (!account) return null;
  const live = subscription && LIVE.includes(subscription.status) ? subscription : null;
  const plans = account.shop.membershipPlans;
  if (!live && plans.length === 0) return null;

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="membership-title" data-testid="membership-card">
      <Stack gap="sm">
        <Title order={2} size="h4" id="membership-title">
          {t('membership.title')}
        </Title>
        {live ? (
          <LiveMembership key={live.id} subscription={live} onAnswer={onAnswer} />
        ) : (
          <PlansOnSale plans={plans} ended={subscription} onAnswer={onAnswer} />
        )}
      </Stack>
    </Card>
  );
}

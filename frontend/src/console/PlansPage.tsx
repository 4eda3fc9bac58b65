import { useState } from 'react';
import {
  Alert,
  Badge,
  Button,
  Group,
  Modal,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconArchive, IconArchiveOff, IconEdit, IconPlus } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { BillingInterval, MembershipPlanInput } from '../gql/graphql';
import { formatMoney, formatNumber } from '../lib/format';
import {
  ConfirmDialog,
  EditorOnly,
  EmptyPanel,
  ErrorAlert,
  errorCode,
  GeneralErrors,
  mutationErrorMessage,
  notifySuccess,
  PageHeader,
  PageLoader,
  splitPayloadErrors,
  toDecimal,
  toInt,
  useConsoleShop,
  usePayloadSubmit,
  type PayloadError,
} from './shared';

/** The plan fields the editor reads and writes back. */
export const ConsoleMembershipPlanFieldsFragment = graphql(`
  fragment ConsoleMembershipPlanFields on MembershipPlan {
    id
    name
    benefits
    price
    currency
    intervalUnit
    intervalCount
    trialDays
    earnMultiplier
    reminderDays
    archivedAt
    monthlyPrice
    tier {
      id
      name
      color
    }
    translations {
      language
      name
      benefits
    }
  }
`);

const PlansQuery = graphql(`
  query ConsolePlans($slug: String!) {
    shop(slug: $slug) {
      id
      allMembershipPlans {
        ...ConsoleMembershipPlanFields
      }
      program {
        id
        tiers {
          id
          name
        }
      }
    }
  }
`);

const PlanCreateMutation = graphql(`
  mutation ConsolePlanCreate($shopId: ID!, $input: MembershipPlanInput!) {
    membershipPlanCreate(shopId: $shopId, input: $input) {
      plan {
        ...ConsoleMembershipPlanFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const PlanUpdateMutation = graphql(`
  mutation ConsolePlanUpdate($id: ID!, $input: MembershipPlanInput!) {
    membershipPlanUpdate(id: $id, input: $input) {
      plan {
        ...ConsoleMembershipPlanFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const PlanArchiveMutation = graphql(`
  mutation ConsolePlanArchive($id: ID!, $archived: Boolean!) {
    membershipPlanArchive(id: $id, archived: $archived) {
      plan {
        id
        archivedAt
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

/** A plan as the editor lists it. */
export type PlanRow = {
  id: string;
  name: string;
  benefits: readonly string[];
  price: string;
  currency: string;
  intervalUnit: BillingInterval;
  intervalCount: number;
  trialDays: number;
  earnMultiplier: string;
  reminderDays: number;
  archivedAt?: string | null;
  monthlyPrice: string;
  tier: { id: string; name: string; color?: string | null };
  translations: readonly { language: string; name: string; benefits: readonly string[] }[];
};

type NumberValue = number | string;

/** The plan form's values; field names follow `MembershipPlanInput` so server errors land under them. */
export interface PlanValues {
  name: string;
  price: NumberValue;
  intervalUnit: BillingInterval;
  intervalCount: NumberValue;
  trialDays: NumberValue;
  tierId: string | null;
  earnMultiplier: NumberValue;
  reminderDays: NumberValue;
  /** One benefit per line. */
  benefits: string;
  nameFa: string;
  /** One Persian benefit per line. */
  benefitsFa: string;
}

const FORM_FIELDS = [
  'name',
  'price',
  'intervalUnit',
  'intervalCount',
  'trialDays',
  'tierId',
  'earnMultiplier',
  'reminderDays',
  'benefits',
  'nameFa',
  'benefitsFa',
];

const UNITS: BillingInterval[] = ['DAY', 'MONTH', 'YEAR'];

/** Benefit lines of a textarea: trimmed, blank lines dropped. */
export function benefitLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function toValues(plan: PlanRow | null): PlanValues {
  const fa = plan?.translations.find((x) => x.language === 'fa');
  return {
    name: plan?.name ?? '',
    price: plan?.price ?? '',
    intervalUnit: plan?.intervalUnit ?? 'MONTH',
    intervalCount: plan?.intervalCount ?? 1,
    trialDays: plan?.trialDays ?? 0,
    tierId: plan?.tier.id ?? null,
    earnMultiplier: plan?.earnMultiplier ?? '1',
    reminderDays: plan?.reminderDays ?? 3,
    benefits: (plan?.benefits ?? []).join('\n'),
    nameFa: fa?.name ?? '',
    benefitsFa: (fa?.benefits ?? []).join('\n'),
  };
}

/**
 * The full `MembershipPlanInput` of the form (an update replaces every setting): money and the
 * multiplier go as Decimal strings, translations other than Persian are kept as they were.
 */
export function planInput(v: PlanValues, previous: PlanRow | null): MembershipPlanInput {
  const translations = (previous?.translations ?? [])
    .filter((tr) => tr.language !== 'fa')
    .map((tr) => ({ language: tr.language, name: tr.name, benefits: [...tr.benefits] }));
  const benefitsFa = benefitLines(v.benefitsFa);
  if (v.nameFa.trim() || benefitsFa.length > 0) translations.push({ language: 'fa', name: v.nameFa.trim(), benefits: benefitsFa });
  return {
    name: v.name.trim(),
    price: toDecimal(v.price) ?? '',
    intervalUnit: v.intervalUnit,
    intervalCount: toInt(v.intervalCount) ?? 1,
    trialDays: toInt(v.trialDays) ?? 0,
    tierId: v.tierId ?? '',
    earnMultiplier: toDecimal(v.earnMultiplier) ?? '1',
    reminderDays: toInt(v.reminderDays) ?? 0,
    benefits: benefitLines(v.benefits),
    translations,
  };
}

/**
 * The form field a server error names: `benefits.2` is the benefits box, a Persian translation's
 * name or benefits their own boxes; other fields are kept as they are.
 */
export function planErrorField(field: string | null | undefined): string | null {
  if (!field) return null;
  const head = field.split(/[.[]/)[0];
  if (head === 'translations') return /benefits/.test(field) ? 'benefitsFa' : 'nameFa';
  return head;
}

/** "every month", "every 30 days": how often a plan charges. */
export function useIntervalLabel() {
  const { t } = useTranslation('console');
  return (unit: BillingInterval, count: number) =>
    t(`plans.interval.${unit}`, { count, n: formatNumber(count, 0) });
}

/** Membership plans editor: every plan (archived too), create, edit, archive and put back on sale. */
export function PlansPage() {
  return (
    <EditorOnly>
      <PlansEditor />
    </EditorOnly>
  );
}

function PlansEditor() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const interval = useIntervalLabel();
  const [{ data, fetching, error }, refetch] = useQuery({ query: PlansQuery, variables: { slug: shop.slug } });
  const [editing, setEditing] = useState<PlanRow | 'new' | null>(null);
  const [archiving, setArchiving] = useState<PlanRow | null>(null);
  const [archiveState, archive] = useMutation(PlanArchiveMutation);
  const [actionError, setActionError] = useState<string[]>([]);

  if (!data && fetching) return <PageLoader />;
  if (error && !data?.shop) return <ErrorAlert error={error} />;
  const plans = (data?.shop?.allMembershipPlans ?? []) as readonly PlanRow[];
  const tiers = data?.shop?.program?.tiers ?? [];

  const doArchive = async () => {
    if (!archiving) return;
    const plan = archiving;
    const archived = !plan.archivedAt;
    setActionError([]);
    const result = await archive({ id: plan.id, archived });
    const payloadErrors: readonly PayloadError[] = result.data?.membershipPlanArchive.errors ?? [];
    if (result.error) {
      const code = errorCode(result.error);
      const message = mutationErrorMessage(result.error);
      setActionError([code ? `${t(`errorCodes.${code}`, { defaultValue: code })} — ${message}` : message]);
    } else if (payloadErrors.length > 0) {
      setActionError(splitPayloadErrors(payloadErrors).general);
    } else {
      notifySuccess(archived ? t('plans.archived', { name: plan.name }) : t('plans.restored', { name: plan.name }));
      refetch({ requestPolicy: 'network-only' });
    }
    setArchiving(null);
  };

  return (
    <Stack>
      <PageHeader title={t('plans.title')} hint={t('plans.hint')}>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')} disabled={tiers.length === 0}>
          {t('plans.add')}
        </Button>
      </PageHeader>
      {tiers.length === 0 ? (
        <Alert color="yellow" variant="light">
          {t('plans.noTiers')}
        </Alert>
      ) : null}
      <GeneralErrors messages={actionError} />
      {plans.length === 0 ? (
        <EmptyPanel title={t('plans.empty')} description={t('plans.emptyHint')} />
      ) : (
        <Table.ScrollContainer minWidth={900}>
          <Table striped verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('plans.columns.name')}</Table.Th>
                <Table.Th>{t('plans.columns.price')}</Table.Th>
                <Table.Th>{t('plans.columns.trial')}</Table.Th>
                <Table.Th>{t('plans.columns.tier')}</Table.Th>
                <Table.Th ta="end">{t('plans.columns.multiplier')}</Table.Th>
                <Table.Th ta="end">{t('plans.columns.monthly')}</Table.Th>
                <Table.Th aria-label={t('plans.columns.actions')} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {plans.map((p) => (
                <Table.Tr key={p.id} data-testid="console-plan" data-plan-name={p.name} data-archived={p.archivedAt ? 'true' : 'false'}>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Text fw={500}>{p.name}</Text>
                      {p.archivedAt ? (
                        <Badge color="gray" variant="light" data-testid="plan-archived">
                          {t('plans.archivedBadge')}
                        </Badge>
                      ) : null}
                    </Group>
                    {p.benefits.length > 0 ? (
                      <Text size="xs" c="dimmed" lineClamp={1}>
                        {p.benefits.join(' · ')}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }} data-testid="plan-price">
                    {t('plans.pricePer', { price: formatMoney(p.price, p.currency), interval: interval(p.intervalUnit, p.intervalCount) })}
                  </Table.Td>
                  <Table.Td>{p.trialDays > 0 ? t('plans.trialDays', { count: p.trialDays, n: formatNumber(p.trialDays, 0) }) : '—'}</Table.Td>
                  <Table.Td>
                    <Badge color={p.tier.color ?? undefined} autoContrast variant="filled">
                      {p.tier.name}
                    </Badge>
                  </Table.Td>
                  <Table.Td ta="end">{`×${formatNumber(p.earnMultiplier, 3)}`}</Table.Td>
                  <Table.Td ta="end" style={{ whiteSpace: 'nowrap' }}>
                    {formatMoney(p.monthlyPrice, p.currency)}
                  </Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap" justify="flex-end">
                      <Button
                        size="compact-sm"
                        variant="light"
                        leftSection={<IconEdit size={14} />}
                        onClick={() => setEditing(p)}
                        aria-label={t('plans.editNamed', { name: p.name })}
                      >
                        {t('common.edit')}
                      </Button>
                      <Button
                        size="compact-sm"
                        variant="subtle"
                        color={p.archivedAt ? undefined : 'red'}
                        leftSection={p.archivedAt ? <IconArchiveOff size={14} /> : <IconArchive size={14} />}
                        onClick={() => {
                          setActionError([]);
                          setArchiving(p);
                        }}
                        aria-label={p.archivedAt ? t('plans.restoreNamed', { name: p.name }) : t('plans.archiveNamed', { name: p.name })}
                      >
                        {p.archivedAt ? t('plans.restore') : t('plans.archive')}
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? t('plans.add') : t('plans.edit')} size="lg">
        {editing !== null ? (
          <PlanForm
            plan={editing === 'new' ? null : editing}
            tiers={tiers}
            onDone={() => {
              setEditing(null);
              refetch({ requestPolicy: 'network-only' });
            }}
          />
        ) : null}
      </Modal>
      <ConfirmDialog
        opened={archiving !== null}
        title={archiving?.archivedAt ? t('plans.restoreTitle') : t('plans.archiveTitle')}
        message={
          archiving?.archivedAt
            ? t('plans.restoreConfirm', { name: archiving?.name ?? '' })
            : t('plans.archiveConfirm', { name: archiving?.name ?? '' })
        }
        confirmLabel={archiving?.archivedAt ? t('plans.restore') : t('plans.archive')}
        loading={archiveState.fetching}
        onConfirm={() => void doArchive()}
        onClose={() => setArchiving(null)}
      />
    </Stack>
  );
}

function PlanForm({ plan, tiers, onDone }: { plan: PlanRow | null; tiers: readonly { id: string; name: string }[]; onDone: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [createState, create] = useMutation(PlanCreateMutation);
  const [updateState, update] = useMutation(PlanUpdateMutation);
  const form = useForm<PlanValues>({
    initialValues: toValues(plan),
    validate: {
      name: (v) => (v.trim() ? null : t('common.required')),
      price: (v) => (toDecimal(v) !== null && Number(v) > 0 ? null : t('plans.errors.price')),
      tierId: (v) => (v ? null : t('common.required')),
      intervalCount: (v) => (toInt(v) !== null && toInt(v)! >= 1 ? null : t('common.required')),
      benefits: (v) => (benefitLines(v).length > 10 ? t('plans.errors.tooManyBenefits') : null),
      benefitsFa: (v) => (benefitLines(v).length > 10 ? t('plans.errors.tooManyBenefits') : null),
    },
  });
  const { general, send } = usePayloadSubmit(form, FORM_FIELDS);

  const submit = form.onSubmit(async (values) => {
    const input = planInput(values, plan);
    const answer = await send(
      () => (plan ? update({ id: plan.id, input }) : create({ shopId: shop.id, input })),
      (data) => {
        const payload = 'membershipPlanUpdate' in data ? data.membershipPlanUpdate : data.membershipPlanCreate;
        return { ...payload, errors: payload.errors.map((e) => ({ ...e, field: planErrorField(e.field) })) };
      },
    );
    if (!answer) return;
    notifySuccess(t('plans.saved', { name: values.name }));
    onDone();
  });

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {plan?.archivedAt ? (
          <Alert color="gray" variant="light" icon={<IconArchive size={18} />}>
            {t('plans.archivedNote')}
          </Alert>
        ) : null}
        <GeneralErrors messages={general} />
        <TextInput label={t('plans.fields.name')} required maxLength={120} data-autofocus {...form.getInputProps('name')} />
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <NumberInput
            label={t('plans.fields.price', { currency: shop.currency })}
            required
            min={0}
            decimalScale={2}
            {...form.getInputProps('price')}
          />
          <NumberInput label={t('plans.fields.intervalCount')} required min={1} max={365} allowDecimal={false} {...form.getInputProps('intervalCount')} />
          <Select
            label={t('plans.fields.intervalUnit')}
            data={UNITS.map((u) => ({ value: u, label: t(`plans.units.${u}`) }))}
            allowDeselect={false}
            {...form.getInputProps('intervalUnit')}
          />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label={t('plans.fields.tier')}
            description={t('plans.fields.tierHint')}
            required
            data={tiers.map((tier) => ({ value: tier.id, label: tier.name }))}
            {...form.getInputProps('tierId')}
          />
          <NumberInput
            label={t('plans.fields.earnMultiplier')}
            description={t('plans.fields.earnMultiplierHint')}
            min={1}
            max={10}
            decimalScale={3}
            {...form.getInputProps('earnMultiplier')}
          />
          <NumberInput label={t('plans.fields.trialDays')} min={0} max={365} allowDecimal={false} {...form.getInputProps('trialDays')} />
          <NumberInput
            label={t('plans.fields.reminderDays')}
            description={t('plans.fields.reminderDaysHint')}
            min={0}
            max={30}
            allowDecimal={false}
            {...form.getInputProps('reminderDays')}
          />
        </SimpleGrid>
        <Textarea label={t('plans.fields.benefits')} description={t('plans.fields.benefitsHint')} rows={4} {...form.getInputProps('benefits')} />
        <TextInput label={t('plans.fields.nameFa')} dir="rtl" lang="fa" maxLength={120} {...form.getInputProps('nameFa')} />
        <Textarea
          label={t('plans.fields.benefitsFa')}
          description={t('plans.fields.benefitsHint')}
          dir="rtl"
          lang="fa"

          rows={4}
          {...form.getInputProps('benefitsFa')}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={createState.fetching || updateState.fetching}>
            {t('common.save')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

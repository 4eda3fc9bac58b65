import { useMemo, useState } from 'react';
import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  NumberInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  Textarea,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconArchive, IconArchiveOff, IconEdit, IconPlus } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type { LimitPeriod, RewardInputType, RewardKind, RewardStatus } from '../gql/graphql';
import { formatDate, formatMoney, formatPoints } from '../lib/format';
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
  ShopDateTimePicker,
  splitPayloadErrors,
  type PayloadError,
  toDecimal,
  toInt,
  useConsoleShop,
  usePayloadSubmit,
} from './shared';
import { isoToLocal, localToIso } from './time';

/** The reward fields the editor reads and writes back. */
export const ConsoleRewardFieldsFragment = graphql(`
  fragment ConsoleRewardFields on Reward {
    id
    name
    description
    kind
    value
    pointsCost
    minTier {
      id
      name
    }
    stock
    perMemberLimit
    limitPeriod
    validFrom
    validUntil
    status
    imageUrl
    sortOrder
    codeLifetimeDays
    refundOnExpiry
    currency
    translations {
      language
      name
      description
    }
  }
`);

const RewardsQuery = graphql(`
  query ConsoleRewards($slug: String!) {
    shop(slug: $slug) {
      id
      rewardCatalogue {
        ...ConsoleRewardFields
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

const RewardCreateMutation = graphql(`
  mutation ConsoleRewardCreate($shopId: ID!, $input: RewardInputType!) {
    rewardCreate(shopId: $shopId, input: $input) {
      reward {
        ...ConsoleRewardFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const RewardUpdateMutation = graphql(`
  mutation ConsoleRewardUpdate($rewardId: ID!, $input: RewardInputType!) {
    rewardUpdate(rewardId: $rewardId, input: $input) {
      reward {
        ...ConsoleRewardFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const RewardArchiveMutation = graphql(`
  mutation ConsoleRewardArchive($rewardId: ID!) {
    rewardArchive(rewardId: $rewardId) {
      reward {
        id
        status
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const RewardRestoreMutation = graphql(`
  mutation ConsoleRewardRestore($rewardId: ID!) {
    rewardRestore(rewardId: $rewardId) {
      reward {
        id
        status
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const KINDS: RewardKind[] = ['FIXED_AMOUNT', 'PERCENTAGE', 'FREE_PRODUCT', 'FREE_SHIPPING', 'SERVICE', 'GIFT'];
const PERIODS: LimitPeriod[] = ['DAY', 'WEEK', 'MONTH', 'YEAR', 'EVER'];

type NumberValue = number | string;

type RewardRow = {
  id: string;
  name: string;
  description: string;
  kind: RewardKind;
  value?: string | null;
  pointsCost: number;
  minTier?: { id: string; name: string } | null;
  stock?: number | null;
  perMemberLimit?: number | null;
  limitPeriod: LimitPeriod;
  validFrom?: string | null;
  validUntil?: string | null;
  status: RewardStatus;
  imageUrl: string;
  sortOrder: number;
  codeLifetimeDays: number;
  refundOnExpiry: boolean;
  currency: string;
  translations: { language: string; name: string; description: string }[];
};

/** The reward form's values. */
export interface RewardValues {
  name: string;
  description: string;
  kind: RewardKind;
  value: NumberValue;
  pointsCost: NumberValue;
  minTierId: string | null;
  stock: NumberValue;
  perMemberLimit: NumberValue;
  limitPeriod: LimitPeriod;
  validFrom: string | null;
  validUntil: string | null;
  imageUrl: string;
  sortOrder: NumberValue;
  codeLifetimeDays: NumberValue;
  refundOnExpiry: boolean;
  nameFa: string;
  descriptionFa: string;
}

const FORM_FIELDS = [
  'name',
  'description',
  'kind',
  'value',
  'pointsCost',
  'minTierId',
  'stock',
  'perMemberLimit',
  'limitPeriod',
  'validFrom',
  'validUntil',
  'imageUrl',
  'sortOrder',
  'codeLifetimeDays',
  'refundOnExpiry',
];

const hasValue = (kind: RewardKind) => kind === 'FIXED_AMOUNT' || kind === 'PERCENTAGE';

/** Which rewards the catalogue editor lists. */
export type RewardFilter = 'ALL' | RewardStatus;
const FILTERS: RewardFilter[] = ['ALL', 'ACTIVE', 'ARCHIVED'];

/**
 * Where a reward stands for members: archived, outside its offer window (not yet or no longer
 * offered) or on offer. Only `onOffer` rewards appear in the public catalogue.
 */
export type RewardState = 'archived' | 'scheduled' | 'ended' | 'onOffer';

/** The reward's state at `now` (validUntil is exclusive, as the API reads it). */
export function rewardState(r: Pick<RewardRow, 'status' | 'validFrom' | 'validUntil'>, now = new Date()): RewardState {
  if (r.status === 'ARCHIVED') return 'archived';
  if (r.validFrom && new Date(r.validFrom) > now) return 'scheduled';
  if (r.validUntil && new Date(r.validUntil) <= now) return 'ended';
  return 'onOffer';
}

const STATE_COLORS: Record<RewardState, string> = { archived: 'gray', scheduled: 'blue', ended: 'orange', onOffer: 'green' };

function toValues(r: RewardRow | null, timeZone: string): RewardValues {
  const fa = r?.translations.find((x) => x.language === 'fa');
  return {
    name: r?.name ?? '',
    description: r?.description ?? '',
    kind: r?.kind ?? 'FIXED_AMOUNT',
    value: r?.value ?? '',
    pointsCost: r?.pointsCost ?? '',
    minTierId: r?.minTier?.id ?? null,
    stock: r?.stock ?? '',
    perMemberLimit: r?.perMemberLimit ?? '',
    limitPeriod: r?.limitPeriod ?? 'EVER',
    validFrom: isoToLocal(r?.validFrom, timeZone),
    validUntil: isoToLocal(r?.validUntil, timeZone),
    imageUrl: r?.imageUrl ?? '',
    sortOrder: r?.sortOrder ?? 0,
    codeLifetimeDays: r?.codeLifetimeDays ?? 30,
    refundOnExpiry: r?.refundOnExpiry ?? true,
    nameFa: fa?.name ?? '',
    descriptionFa: fa?.description ?? '',
  };
}

/** The full `RewardInputType` (update replaces every setting, so nothing may be left out). */
export function rewardInput(v: RewardValues, timeZone: string, previous: RewardRow | null): RewardInputType {
  const translations: Record<string, { name: string; description: string }> = {};
  for (const tr of previous?.translations ?? []) {
    if (tr.language !== 'fa') translations[tr.language] = { name: tr.name, description: tr.description };
  }
  if (v.nameFa.trim() || v.descriptionFa.trim()) translations.fa = { name: v.nameFa.trim(), description: v.descriptionFa.trim() };
  return {
    name: v.name.trim(),
    description: v.description,
    kind: v.kind,
    value: hasValue(v.kind) ? toDecimal(v.value) : null,
    pointsCost: toInt(v.pointsCost) ?? 0,
    minTierId: v.minTierId || null,
    stock: toInt(v.stock),
    perMemberLimit: toInt(v.perMemberLimit),
    limitPeriod: v.limitPeriod,
    validFrom: localToIso(v.validFrom, timeZone),
    validUntil: localToIso(v.validUntil, timeZone),
    imageUrl: v.imageUrl.trim(),
    sortOrder: toInt(v.sortOrder) ?? 0,
    codeLifetimeDays: toInt(v.codeLifetimeDays) ?? 30,
    refundOnExpiry: v.refundOnExpiry,
    translations,
  };
}

/** Rewards catalogue editor: every reward (archived too, filterable), create, edit, archive and restore. */
export function RewardsPage() {
  return (
    <EditorOnly>
      <RewardsEditor />
    </EditorOnly>
  );
}

/**
 * The messages of a failed archive or restore: the GraphQL error (its code translated by the
 * caller) or the payload's coded errors, which have no form field to sit under.
 */
function actionErrors(error: CombinedError | undefined, payloadErrors: readonly PayloadError[] | undefined, codeLabel: (code: string) => string): string[] {
  if (error) {
    const code = errorCode(error);
    const message = mutationErrorMessage(error);
    return [code ? `${codeLabel(code)} — ${message}` : message];
  }
  return splitPayloadErrors(payloadErrors).general;
}

function RewardsEditor() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }, refetch] = useQuery({ query: RewardsQuery, variables: { slug: shop.slug } });
  const [editing, setEditing] = useState<RewardRow | 'new' | null>(null);
  const [archiving, setArchiving] = useState<RewardRow | null>(null);
  const [archiveState, archive] = useMutation(RewardArchiveMutation);
  const [, restore] = useMutation(RewardRestoreMutation);
  const [restoringId, setRestoringId] = useState<string | null>(null);
  // Archive and restore share one alert: the last action's failure is the one that matters.
  const [actionError, setActionError] = useState<string[]>([]);
  const codeLabel = (code: string) => t(`errorCodes.${code}`, { defaultValue: code });
  const [filter, setFilter] = useState<RewardFilter>('ALL');
  const all = useMemo(() => (data?.shop?.rewardCatalogue ?? []) as RewardRow[], [data]);
  const rewards = filter === 'ALL' ? all : all.filter((r) => r.status === filter);
  const count = (f: RewardFilter) => (f === 'ALL' ? all.length : all.filter((r) => r.status === f).length);
  const tiers = data?.shop?.program?.tiers ?? [];

  const doArchive = async () => {
    if (!archiving) return;
    const r = await archive({ rewardId: archiving.id });
    const errs = actionErrors(r.error, r.data?.rewardArchive.errors, codeLabel);
    setActionError(errs);
    if (errs.length === 0) {
      notifySuccess(t('rewards.archived', { name: archiving.name }));
      setArchiving(null);
      refetch({ requestPolicy: 'network-only' });
    }
  };

  const doRestore = async (reward: RewardRow) => {
    setActionError([]);
    setRestoringId(reward.id);
    const r = await restore({ rewardId: reward.id });
    setRestoringId(null);
    const errs = actionErrors(r.error, r.data?.rewardRestore.errors, codeLabel);
    setActionError(errs);
    if (errs.length === 0) {
      // Restoring keeps the validity window, so a reward past or before its dates comes back not on offer.
      const state = rewardState({ ...reward, status: 'ACTIVE' });
      notifySuccess(
        state === 'onOffer'
          ? t('rewards.restored', { name: reward.name })
          : t('rewards.restoredOffOffer', { name: reward.name, state: t(`rewards.states.${state}`) }),
      );
      refetch({ requestPolicy: 'network-only' });
    }
  };

  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;

  return (
    <Stack>
      <PageHeader title={t('rewards.title')} hint={t('rewards.hint')}>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
          {t('rewards.add')}
        </Button>
      </PageHeader>
      <SegmentedControl
        aria-label={t('rewards.filterLabel')}
        value={filter}
        onChange={(v) => setFilter(v as RewardFilter)}
        data={FILTERS.map((f) => ({ value: f, label: t(`rewards.filters.${f}`, { n: formatPoints(count(f)) }) }))}
        style={{ alignSelf: 'flex-start' }}
      />
      <GeneralErrors messages={actionError} />
      {rewards.length === 0 ? (
        <EmptyPanel
          title={t(`rewards.emptyFilter.${filter}`)}
          description={filter === 'ARCHIVED' ? undefined : t('rewards.emptyHint')}
        />
      ) : null}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {rewards.map((r) => {
          const state = rewardState(r);
          return (
            <Card
              key={r.id}
              withBorder
              data-testid="console-reward"
              data-reward-name={r.name}
              data-status={r.status}
              bg={state === 'archived' ? 'var(--mantine-color-default-hover)' : undefined}
            >
              <Stack gap="xs" h="100%">
                <Group justify="space-between" wrap="nowrap" align="flex-start">
                  <Text fw={600} c={state === 'archived' ? 'dimmed' : undefined}>
                    {r.name}
                  </Text>
                  <Badge variant="light">{t(`rewards.kinds.${r.kind}`)}</Badge>
                </Group>
                <Group gap={6}>
                  <Badge size="sm" variant="dot" color={STATE_COLORS[state]} data-testid="reward-status">
                    {t(`rewards.states.${state}`)}
                  </Badge>
                </Group>
                {r.description ? (
                  <Text size="sm" c="dimmed" lineClamp={2}>
                    {r.description}
                  </Text>
                ) : null}
                <Text size="sm">
                  {t('rewards.costLine', { points: formatPoints(r.pointsCost) })}
                  {r.value != null && hasValue(r.kind)
                    ? ` · ${r.kind === 'PERCENTAGE' ? `${formatPoints(Number(r.value))}%` : formatMoney(r.value, r.currency)}`
                    : ''}
                </Text>
                <Text size="xs" c="dimmed">
                  {[
                    r.stock != null ? t('rewards.stockLine', { n: formatPoints(r.stock) }) : t('rewards.unlimited'),
                    r.minTier ? t('rewards.minTierLine', { name: r.minTier.name }) : null,
                    r.perMemberLimit != null
                      ? t('rewards.limitLine', { n: formatPoints(r.perMemberLimit), period: t(`rewards.periods.${r.limitPeriod}`) })
                      : null,
                    r.validFrom && state === 'scheduled' ? t('rewards.fromLine', { date: formatDate(r.validFrom) }) : null,
                    r.validUntil ? t('rewards.untilLine', { date: formatDate(r.validUntil) }) : null,
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </Text>
                <Group gap="xs" mt="auto">
                  <Button size="xs" variant="light" leftSection={<IconEdit size={14} />} onClick={() => setEditing(r)} aria-label={t('rewards.editNamed', { name: r.name })}>
                    {t('common.edit')}
                  </Button>
                  {r.status !== 'ARCHIVED' ? (
                    <Button
                      size="xs"
                      variant="subtle"
                      color="red"
                      leftSection={<IconArchive size={14} />}
                      onClick={() => {
                        setActionError([]);
                        setArchiving(r);
                      }}
                      aria-label={t('rewards.archiveNamed', { name: r.name })}
                    >
                      {t('rewards.archive')}
                    </Button>
                  ) : (
                    <Button
                      size="xs"
                      variant="subtle"
                      leftSection={<IconArchiveOff size={14} />}
                      loading={restoringId === r.id}
                      onClick={() => void doRestore(r)}
                      aria-label={t('rewards.restoreNamed', { name: r.name })}
                    >
                      {t('rewards.restore')}
                    </Button>
                  )}
                </Group>
              </Stack>
            </Card>
          );
        })}
      </SimpleGrid>
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={editing === 'new' ? t('rewards.add') : t('rewards.edit')}
        size="lg"
      >
        {editing !== null ? (
          <RewardForm
            reward={editing === 'new' ? null : editing}
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
        title={t('rewards.archiveTitle')}
        message={t('rewards.archiveConfirm', { name: archiving?.name ?? '' })}
        confirmLabel={t('rewards.archive')}
        loading={archiveState.fetching}
        onConfirm={doArchive}
        onClose={() => setArchiving(null)}
      />
    </Stack>
  );
}

function RewardForm({ reward, tiers, onDone }: { reward: RewardRow | null; tiers: readonly { id: string; name: string }[]; onDone: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [createState, create] = useMutation(RewardCreateMutation);
  const [updateState, update] = useMutation(RewardUpdateMutation);
  const form = useForm<RewardValues>({
    initialValues: toValues(reward, shop.timezone),
    validate: {
      name: (v) => (v.trim() ? null : t('common.required')),
      pointsCost: (v) => (toInt(v) && toInt(v)! > 0 ? null : t('rewards.errors.pointsCost')),
      value: (v, values) => (hasValue(values.kind) && toDecimal(v) === null ? t('common.required') : null),
    },
  });
  const { general, send } = usePayloadSubmit(form, FORM_FIELDS);

  const submit = form.onSubmit(async (values) => {
    const input = rewardInput(values, shop.timezone, reward);
    const answer = await send(
      () => (reward ? update({ rewardId: reward.id, input }) : create({ shopId: shop.id, input })),
      (data) => ('rewardUpdate' in data ? data.rewardUpdate : data.rewardCreate),
    );
    if (!answer) return;
    notifySuccess(t('rewards.saved', { name: values.name }));
    onDone();
  });

  const kind = form.values.kind;
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {reward?.status === 'ARCHIVED' ? (
          <Alert color="gray" variant="light" icon={<IconArchive size={18} />}>
            {t('rewards.archivedNote')}
          </Alert>
        ) : null}
        <GeneralErrors messages={general} />
        <TextInput label={t('rewards.fields.name')} required data-autofocus {...form.getInputProps('name')} />
        <Textarea label={t('rewards.fields.description')} rows={3} {...form.getInputProps('description')} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label={t('rewards.fields.kind')}
            data={KINDS.map((k) => ({ value: k, label: t(`rewards.kinds.${k}`) }))}
            allowDeselect={false}
            {...form.getInputProps('kind')}
          />
          <NumberInput
            label={kind === 'PERCENTAGE' ? t('rewards.fields.percent') : t('rewards.fields.value', { currency: shop.currency })}
            disabled={!hasValue(kind)}
            required={hasValue(kind)}
            min={0}
            max={kind === 'PERCENTAGE' ? 100 : undefined}
            decimalScale={2}
            {...form.getInputProps('value')}
          />
          <NumberInput label={t('rewards.fields.pointsCost')} required min={1} allowDecimal={false} {...form.getInputProps('pointsCost')} />
          <Select
            label={t('rewards.fields.minTier')}
            placeholder={t('rewards.anyTier')}
            data={tiers.map((tier) => ({ value: tier.id, label: tier.name }))}
            clearable
            {...form.getInputProps('minTierId')}
          />
          <NumberInput label={t('rewards.fields.stock')} placeholder={t('rewards.unlimited')} min={0} allowDecimal={false} {...form.getInputProps('stock')} />
          <NumberInput label={t('rewards.fields.perMemberLimit')} placeholder={t('rewards.none')} min={1} allowDecimal={false} {...form.getInputProps('perMemberLimit')} />
          <Select
            label={t('rewards.fields.limitPeriod')}
            data={PERIODS.map((p) => ({ value: p, label: t(`rewards.periods.${p}`) }))}
            allowDeselect={false}
            {...form.getInputProps('limitPeriod')}
          />
          <ShopDateTimePicker label={t('rewards.fields.validFrom')} placeholder={t('rewards.always')} {...form.getInputProps('validFrom')} />
          <ShopDateTimePicker label={t('rewards.fields.validUntil')} placeholder={t('rewards.always')} {...form.getInputProps('validUntil')} />
          <NumberInput label={t('rewards.fields.codeLifetimeDays')} min={1} max={3650} allowDecimal={false} {...form.getInputProps('codeLifetimeDays')} />
          <NumberInput label={t('rewards.fields.sortOrder')} allowDecimal={false} {...form.getInputProps('sortOrder')} />
        </SimpleGrid>
        <TextInput label={t('rewards.fields.imageUrl')} type="url" placeholder="https://" {...form.getInputProps('imageUrl')} />
        <Switch label={t('rewards.fields.refundOnExpiry')} {...form.getInputProps('refundOnExpiry', { type: 'checkbox' })} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t('rewards.fields.nameFa')} dir="rtl" lang="fa" {...form.getInputProps('nameFa')} />
          <TextInput label={t('rewards.fields.descriptionFa')} dir="rtl" lang="fa" {...form.getInputProps('descriptionFa')} />
        </SimpleGrid>
        <Group justify="flex-end">
          <Button type="submit" loading={createState.fetching || updateState.fetching}>
            {t('common.save')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

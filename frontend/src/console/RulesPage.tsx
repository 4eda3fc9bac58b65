import { useMemo, useState } from 'react';
import {
  Badge,
  Button,
  Card,
  Chip,
  type ComboboxItem,
  Group,
  Input,
  Modal,
  MultiSelect,
  type MultiSelectProps,
  NumberInput,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { TimeInput } from '@mantine/dates';
import { useForm } from '@mantine/form';
import { IconEdit, IconPlus, IconTrash } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { EarningRuleInput, EarningRuleKind } from '../gql/graphql';
import { formatDate, formatMoney, formatPoints } from '../lib/format';
import {
  ConfirmDialog,
  EditorOnly,
  EmptyPanel,
  ErrorAlert,
  GeneralErrors,
  notifySuccess,
  PageHeader,
  PageLoader,
  ShopDateTimePicker,
  toDecimal,
  toInt,
  useConsoleShop,
  usePayloadSubmit,
} from './shared';
import { inputToTime, isoToLocal, localToIso, timeToInput } from './time';

const RulesQuery = graphql(`
  query ConsoleRules($slug: String!) {
    shop(slug: $slug) {
      id
      segments {
        id
        name
        kind
      }
      program {
        id
        tiers {
          id
          name
        }
        earningRules {
          id
          name
          kind
          multiplier
          bonusPoints
          startsAt
          endsAt
          daysOfWeek
          startTime
          endTime
          categorySlugs
          tiers {
            id
            name
          }
          segmentIds
          minOrderAmount
          priority
          stackable
          active
          createdAt
        }
      }
    }
  }
`);

const CategoriesQuery = graphql(`
  query ConsoleCategories {
    categories {
      name
      slug
    }
  }
`);

const RuleCreateMutation = graphql(`
  mutation ConsoleRuleCreate($shopId: ID!, $input: EarningRuleInput!) {
    earningRuleCreate(shopId: $shopId, input: $input) {
      rule {
        id
        name
      }
      loyaltyErrors {
        field
        code
        message
      }
    }
  }
`);

const RuleUpdateMutation = graphql(`
  mutation ConsoleRuleUpdate($id: ID!, $input: EarningRuleInput!) {
    earningRuleUpdate(id: $id, input: $input) {
      rule {
        id
        name
        active
      }
      loyaltyErrors {
        field
        code
        message
      }
    }
  }
`);

const RuleDeleteMutation = graphql(`
  mutation ConsoleRuleDelete($id: ID!) {
    earningRuleDelete(id: $id) {
      deletedId
      loyaltyErrors {
        field
        code
        message
      }
    }
  }
`);

type NumberValue = number | string;

type RuleRow = {
  id: string;
  name: string;
  kind: EarningRuleKind;
  multiplier?: string | null;
  bonusPoints?: number | null;
  startsAt?: string | null;
  endsAt?: string | null;
  daysOfWeek: number[];
  startTime?: string | null;
  endTime?: string | null;
  categorySlugs: string[];
  tiers: { id: string; name: string }[];
  segmentIds: string[];
  minOrderAmount?: string | null;
  priority: number;
  stackable: boolean;
  active: boolean;
};

/** The rule form's values. */
export interface RuleValues {
  name: string;
  kind: EarningRuleKind;
  multiplier: NumberValue;
  bonusPoints: NumberValue;
  startsAt: string | null;
  endsAt: string | null;
  daysOfWeek: string[];
  startTime: string;
  endTime: string;
  categorySlugs: string[];
  tierIds: string[];
  segmentIds: string[];
  minOrderAmount: NumberValue;
  priority: NumberValue;
  stackable: boolean;
  active: boolean;
}

const FORM_FIELDS = [
  'name',
  'kind',
  'multiplier',
  'bonusPoints',
  'startsAt',
  'endsAt',
  'daysOfWeek',
  'startTime',
  'endTime',
  'categorySlugs',
  'tierIds',
  'segmentIds',
  'minOrderAmount',
  'priority',
  'stackable',
  'active',
];
const WEEKDAYS = [0, 1, 2, 3, 4, 5, 6];

/** A marketplace category as `categories` lists it. */
export interface CategoryOption {
  name: string;
  slug: string;
}

/**
 * The category picker's options: every known category by name, plus any slug the rule already
 * names that the list lacks (so it stays visible and removable rather than silently kept).
 */
export function categoryOptions(categories: readonly CategoryOption[], selected: readonly string[]): ComboboxItem[] {
  const options = categories.map((c) => ({ value: c.slug, label: c.name }));
  const known = new Set(categories.map((c) => c.slug));
  for (const slug of selected) if (!known.has(slug)) options.push({ value: slug, label: slug });
  return options;
}

/** Matches the search against a category's name and its slug. */
const filterCategories: MultiSelectProps['filter'] = ({ options, search, limit }) => {
  const needle = search.trim().toLowerCase();
  const items = (options as ComboboxItem[]).filter(
    (o) => !needle || o.label.toLowerCase().includes(needle) || o.value.toLowerCase().includes(needle),
  );
  return items.slice(0, limit);
};

function toValues(r: RuleRow | null, timeZone: string): RuleValues {
  return {
    name: r?.name ?? '',
    kind: r?.kind ?? 'MULTIPLIER',
    multiplier: r?.multiplier ?? 2,
    bonusPoints: r?.bonusPoints ?? 100,
    startsAt: isoToLocal(r?.startsAt, timeZone),
    endsAt: isoToLocal(r?.endsAt, timeZone),
    daysOfWeek: (r?.daysOfWeek ?? []).map(String),
    startTime: timeToInput(r?.startTime) ?? '',
    endTime: timeToInput(r?.endTime) ?? '',
    categorySlugs: r?.categorySlugs ?? [],
    tierIds: (r?.tiers ?? []).map((x) => x.id),
    segmentIds: r?.segmentIds ?? [],
    minOrderAmount: r?.minOrderAmount ?? '',
    priority: r?.priority ?? 0,
    stackable: r?.stackable ?? true,
    active: r?.active ?? true,
  };
}

/** Every `EarningRuleInput` field, the other kind's field as null so a kind switch is valid. */
export function ruleInput(v: RuleValues, timeZone: string): EarningRuleInput {
  return {
    name: v.name.trim(),
    kind: v.kind,
    multiplier: v.kind === 'MULTIPLIER' ? toDecimal(v.multiplier) : null,
    bonusPoints: v.kind === 'FIXED_BONUS' ? toInt(v.bonusPoints) : null,
    startsAt: localToIso(v.startsAt, timeZone),
    endsAt: localToIso(v.endsAt, timeZone),
    daysOfWeek: v.daysOfWeek.map(Number).sort((a, b) => a - b),
    startTime: inputToTime(v.startTime),
    endTime: inputToTime(v.endTime),
    categorySlugs: v.categorySlugs.map((s) => s.trim()).filter(Boolean),
    tierIds: v.tierIds,
    segmentIds: v.segmentIds,
    minOrderAmount: toDecimal(v.minOrderAmount),
    priority: toInt(v.priority) ?? 0,
    stackable: v.stackable,
    active: v.active,
  };
}

/** Earning rules (campaigns) editor: list, create, edit, pause and delete. */
export function RulesPage() {
  return (
    <EditorOnly>
      <RulesEditor />
    </EditorOnly>
  );
}

function RulesEditor() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }, refetch] = useQuery({ query: RulesQuery, variables: { slug: shop.slug } });
  // Rules name categories by slug; the list gives their display names and the picker's options.
  const [categoriesResult] = useQuery({ query: CategoriesQuery });
  const categories = categoriesResult.data?.categories;
  const categoryNames = useMemo(() => new Map((categories ?? []).map((c) => [c.slug, c.name])), [categories]);
  const [editing, setEditing] = useState<RuleRow | 'new' | null>(null);
  const [deleting, setDeleting] = useState<RuleRow | null>(null);
  const [deleteState, deleteRule] = useMutation(RuleDeleteMutation);
  const [, updateRule] = useMutation(RuleUpdateMutation);
  const [messages, setMessages] = useState<string[]>([]);
  const program = data?.shop?.program;
  const rules = (program?.earningRules ?? []) as RuleRow[];
  const tiers = program?.tiers ?? [];
  const segments = data?.shop?.segments ?? [];
  const segmentNames = useMemo(() => new Map(segments.map((x) => [x.id, x.name])), [segments]);

  const reload = () => refetch({ requestPolicy: 'network-only' });

  const doDelete = async () => {
    if (!deleting) return;
    const r = await deleteRule({ id: deleting.id });
    const errs = r.error ? [r.error.message] : (r.data?.earningRuleDelete.loyaltyErrors ?? []).map((e) => e.message);
    setMessages(errs);
    if (errs.length === 0) {
      notifySuccess(t('rules.deleted', { name: deleting.name }));
      setDeleting(null);
      reload();
    }
  };

  const toggleActive = async (rule: RuleRow, active: boolean) => {
    const r = await updateRule({ id: rule.id, input: { active } });
    const errs = r.error ? [r.error.message] : (r.data?.earningRuleUpdate.loyaltyErrors ?? []).map((e) => e.message);
    setMessages(errs);
    reload();
  };

  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;
  if (!program) return <EmptyPanel title={t('settings.noProgram')} description={t('settings.noProgramHint')} />;

  return (
    <Stack>
      <PageHeader title={t('rules.title')} hint={t('rules.hint', { zone: shop.timezone })}>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
          {t('rules.add')}
        </Button>
      </PageHeader>
      <GeneralErrors messages={messages} />
      {rules.length === 0 ? <EmptyPanel title={t('rules.empty')} description={t('rules.emptyHint')} /> : null}
      <Stack gap="sm">
        {rules.map((rule) => (
          <Card key={rule.id} withBorder padding="sm" data-testid="rule-row" data-rule-name={rule.name} opacity={rule.active ? 1 : 0.7}>
            <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
              <Stack gap={4} style={{ flex: '1 1 260px', minWidth: 0 }}>
                <Group gap="xs">
                  <Text fw={600}>{rule.name}</Text>
                  <Badge color={rule.kind === 'MULTIPLIER' ? 'grape' : 'teal'}>
                    {rule.kind === 'MULTIPLIER'
                      ? t('rules.multiplierBadge', { n: formatPoints(Number(rule.multiplier ?? 1)) })
                      : t('rules.bonusBadge', { n: formatPoints(rule.bonusPoints ?? 0) })}
                  </Badge>
                  {!rule.active ? <Badge color="gray">{t('rules.inactive')}</Badge> : null}
                  {!rule.stackable ? <Badge variant="outline">{t('rules.exclusive')}</Badge> : null}
                </Group>
                <Text size="sm" c="dimmed">
                  {describeRule(rule, t, shop.currency, categoryNames, segmentNames)}
                </Text>
                <Text size="xs" c="dimmed">
                  {t('rules.priorityLine', { n: formatPoints(rule.priority) })}
                </Text>
              </Stack>
              <Group gap="xs">
                <Switch
                  checked={rule.active}
                  onChange={(e) => toggleActive(rule, e.currentTarget.checked)}
                  label={t('rules.fields.active')}
                  aria-label={t('rules.activeNamed', { name: rule.name })}
                />
                <Button size="xs" variant="light" leftSection={<IconEdit size={14} />} onClick={() => setEditing(rule)} aria-label={t('rules.editNamed', { name: rule.name })}>
                  {t('common.edit')}
                </Button>
                <Button
                  size="xs"
                  variant="subtle"
                  color="red"
                  leftSection={<IconTrash size={14} />}
                  onClick={() => setDeleting(rule)}
                  aria-label={t('rules.deleteNamed', { name: rule.name })}
                >
                  {t('common.delete')}
                </Button>
              </Group>
            </Group>
          </Card>
        ))}
      </Stack>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? t('rules.add') : t('rules.edit')} size="lg">
        {editing !== null ? (
          <RuleForm
            rule={editing === 'new' ? null : editing}
            tiers={tiers}
            segments={segments}
            categories={categories}
            categoriesFailed={!!categoriesResult.error}
            onDone={() => {
              setEditing(null);
              reload();
            }}
          />
        ) : null}
      </Modal>
      <ConfirmDialog
        opened={deleting !== null}
        title={t('rules.deleteTitle')}
        message={t('rules.deleteConfirm', { name: deleting?.name ?? '' })}
        confirmLabel={t('common.delete')}
        loading={deleteState.fetching}
        onConfirm={doDelete}
        onClose={() => setDeleting(null)}
      />
    </Stack>
  );
}

/** One line of the rule's conditions, "always" when it has none. */
function describeRule(
  rule: RuleRow,
  t: (k: string, o?: Record<string, unknown>) => string,
  currency: string,
  categoryNames: ReadonlyMap<string, string>,
  segmentNames: ReadonlyMap<string, string>,
): string {
  const parts: string[] = [];
  if (rule.startsAt || rule.endsAt) {
    parts.push(
      t('rules.when.dates', {
        from: rule.startsAt ? formatDate(rule.startsAt) : '…',
        to: rule.endsAt ? formatDate(rule.endsAt) : '…',
      }),
    );
  }
  if (rule.daysOfWeek.length) parts.push(rule.daysOfWeek.map((d) => t(`rules.days.${d}`)).join(', '));
  if (rule.startTime && rule.endTime) parts.push(`${rule.startTime.slice(0, 5)}–${rule.endTime.slice(0, 5)}`);
  if (rule.categorySlugs.length) parts.push(t('rules.when.categories', { list: rule.categorySlugs.map((s) => categoryNames.get(s) ?? s).join(', ') }));
  if (rule.tiers.length) parts.push(t('rules.when.tiers', { list: rule.tiers.map((x) => x.name).join(', ') }));
  if (rule.segmentIds.length) {
    parts.push(t('rules.when.segments', { list: rule.segmentIds.map((id) => segmentNames.get(id) ?? '?').join(', ') }));
  }
  if (rule.minOrderAmount != null) parts.push(t('rules.when.min', { amount: formatMoney(rule.minOrderAmount, currency) }));
  return parts.length ? parts.join(' · ') : t('rules.when.always');
}

function RuleForm({
  rule,
  tiers,
  segments,
  categories,
  categoriesFailed,
  onDone,
}: {
  rule: RuleRow | null;
  tiers: readonly { id: string; name: string }[];
  /** The shop's segments; a rule naming any rewards their members only. */
  segments: readonly { id: string; name: string }[];
  /** The marketplace's categories; undefined while loading. */
  categories: readonly CategoryOption[] | undefined;
  /** The list could not be loaded: fall back to typing slugs. */
  categoriesFailed: boolean;
  onDone: () => void;
}) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [createState, create] = useMutation(RuleCreateMutation);
  const [updateState, update] = useMutation(RuleUpdateMutation);
  const form = useForm<RuleValues>({
    initialValues: toValues(rule, shop.timezone),
    validate: {
      name: (v) => (v.trim() ? null : t('common.required')),
      multiplier: (v, values) => (values.kind === 'MULTIPLIER' && !(Number(v) >= 1 && Number(v) <= 20) ? t('rules.errors.multiplier') : null),
      bonusPoints: (v, values) => (values.kind === 'FIXED_BONUS' && !(toInt(v) && toInt(v)! >= 1) ? t('rules.errors.bonus') : null),
      endTime: (v, values) => (!!v !== !!values.startTime ? t('rules.errors.bothTimes') : null),
    },
  });
  const { general, send } = usePayloadSubmit(form, FORM_FIELDS);

  const submit = form.onSubmit(async (values) => {
    const input = ruleInput(values, shop.timezone);
    const answer = await send(
      () => (rule ? update({ id: rule.id, input }) : create({ shopId: shop.id, input })),
      (data) => ('earningRuleUpdate' in data ? data.earningRuleUpdate : data.earningRuleCreate),
    );
    if (!answer) return;
    notifySuccess(t('rules.saved', { name: values.name }));
    onDone();
  });

  const kind = form.values.kind;
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <GeneralErrors messages={general} />
        <TextInput label={t('rules.fields.name')} required data-autofocus {...form.getInputProps('name')} />
        <Input.Wrapper label={t('rules.fields.kind')}>
          <SegmentedControl
            fullWidth
            data={[
              { value: 'MULTIPLIER', label: t('rules.kinds.MULTIPLIER') },
              { value: 'FIXED_BONUS', label: t('rules.kinds.FIXED_BONUS') },
            ]}
            {...form.getInputProps('kind')}
          />
        </Input.Wrapper>
        {kind === 'MULTIPLIER' ? (
          <NumberInput label={t('rules.fields.multiplier')} description={t('rules.multiplierHint')} min={1} max={20} step={0.5} decimalScale={2} {...form.getInputProps('multiplier')} />
        ) : (
          <NumberInput label={t('rules.fields.bonusPoints')} min={1} max={1000000} allowDecimal={false} {...form.getInputProps('bonusPoints')} />
        )}
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <ShopDateTimePicker label={t('rules.fields.startsAt')} placeholder={t('rules.always')} {...form.getInputProps('startsAt')} />
          <ShopDateTimePicker label={t('rules.fields.endsAt')} placeholder={t('rules.openEnded')} {...form.getInputProps('endsAt')} />
        </SimpleGrid>
        <Input.Wrapper label={t('rules.fields.daysOfWeek')} description={t('rules.daysHint')} error={form.errors.daysOfWeek}>
          <Chip.Group multiple {...form.getInputProps('daysOfWeek')}>
            <Group gap={6} mt={4}>
              {WEEKDAYS.map((d) => (
                <Chip key={d} value={String(d)} size="sm">
                  {t(`rules.days.${d}`)}
                </Chip>
              ))}
            </Group>
          </Chip.Group>
        </Input.Wrapper>
        <SimpleGrid cols={{ base: 2 }}>
          <TimeInput label={t('rules.fields.startTime')} {...form.getInputProps('startTime')} />
          <TimeInput label={t('rules.fields.endTime')} {...form.getInputProps('endTime')} />
        </SimpleGrid>
        {categoriesFailed ? (
          <TagsInput
            label={t('rules.fields.categorySlugs')}
            description={t('rules.categoriesFallbackHint')}
            clearable
            {...form.getInputProps('categorySlugs')}
          />
        ) : (
          <MultiSelect
            label={t('rules.fields.categorySlugs')}
            description={t('rules.categoriesHint')}
            placeholder={form.values.categorySlugs.length ? undefined : t('rules.anyCategory')}
            data={categoryOptions(categories ?? [], form.values.categorySlugs)}
            searchable
            clearable
            hidePickedOptions
            filter={filterCategories}
            nothingFoundMessage={categories ? t('rules.noCategory') : t('common.loading')}
            {...form.getInputProps('categorySlugs')}
          />
        )}
        <MultiSelect
          label={t('rules.fields.tierIds')}
          placeholder={t('rules.everyTier')}
          data={tiers.map((x) => ({ value: x.id, label: x.name }))}
          clearable
          {...form.getInputProps('tierIds')}
        />
        <MultiSelect
          label={t('rules.fields.segmentIds')}
          description={t('rules.segmentsHint')}
          placeholder={form.values.segmentIds.length ? undefined : t('rules.everyMember')}
          data={segments.map((x) => ({ value: x.id, label: x.name }))}
          clearable
          searchable
          nothingFoundMessage={t('rules.noSegment')}
          {...form.getInputProps('segmentIds')}
        />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <NumberInput label={t('rules.fields.minOrderAmount', { currency: shop.currency })} placeholder={t('rules.anyAmount')} min={0} decimalScale={2} {...form.getInputProps('minOrderAmount')} />
          <NumberInput label={t('rules.fields.priority')} description={t('rules.priorityHint')} min={-1000} max={1000} allowDecimal={false} {...form.getInputProps('priority')} />
        </SimpleGrid>
        <Group>
          <Switch label={t('rules.fields.stackable')} {...form.getInputProps('stackable', { type: 'checkbox' })} />
          <Switch label={t('rules.fields.active')} {...form.getInputProps('active', { type: 'checkbox' })} />
        </Group>
        <Group justify="flex-end">
          <Button type="submit" loading={createState.fetching || updateState.fetching}>
            {t('common.save')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

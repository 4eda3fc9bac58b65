import { useEffect, useMemo, useState } from 'react';
import {
  Anchor,
  Badge,
  Button,
  Fieldset,
  Group,
  Modal,
  MultiSelect,
  NumberInput,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  TagsInput,
  Text,
  TextInput,
  Textarea,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDebouncedValue } from '@mantine/hooks';
import { IconEdit, IconPlus, IconTrash, IconUsers } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { SegmentKind } from '../gql/graphql';
import { formatDateTime, formatPoints } from '../lib/format';
import {
  ConfirmDialog,
  EditorOnly,
  EmptyPanel,
  ErrorAlert,
  GeneralErrors,
  notifySuccess,
  PageHeader,
  PageLoader,
  errorCode,
  splitPayloadErrors,
  toDecimal,
  toInt,
  useConsoleShop,
  usePayloadSubmit,
} from './shared';

const SegmentsQuery = graphql(`
  query ConsoleSegments($slug: String!) {
    shop(slug: $slug) {
      id
      program {
        id
        tiers {
          id
          name
        }
      }
      segments {
        id
        name
        description
        kind
        criteria
        count
        updatedAt
        snapshotAt
        snapshotCount
      }
      tagSettings {
        vipTierId
        vipSpend
        newDays
        frequentVisits
        frequentDays
        highValuePercentile
        highValueSpend
        dormantDays
      }
    }
  }
`);

const SegmentPreviewQuery = graphql(`
  query ConsoleSegmentPreview($slug: String!, $criteria: JSON!) {
    shop(slug: $slug) {
      id
      segmentPreview(criteria: $criteria) {
        count
        members {
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
`);

const SegmentStaticMembersQuery = graphql(`
  query ConsoleSegmentStaticMembers($slug: String!, $segmentId: ID!) {
    shop(slug: $slug) {
      id
      members(filter: { segmentId: $segmentId }, first: 100) {
        totalCount
        edges {
          node {
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
`);

const SegmentMemberSearchQuery = graphql(`
  query ConsoleSegmentMemberSearch($slug: String!, $search: String) {
    shop(slug: $slug) {
      id
      members(filter: { search: $search }, first: 10) {
        edges {
          node {
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
`);

const SegmentCreateMutation = graphql(`
  mutation ConsoleSegmentCreate($shopId: ID!, $input: SegmentInput!) {
    segmentCreate(shopId: $shopId, input: $input) {
      segment {
        id
        name
        count
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const SegmentUpdateMutation = graphql(`
  mutation ConsoleSegmentUpdate($segmentId: ID!, $input: SegmentInput!) {
    segmentUpdate(segmentId: $segmentId, input: $input) {
      segment {
        id
        name
        count
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const SegmentDeleteMutation = graphql(`
  mutation ConsoleSegmentDelete($segmentId: ID!) {
    segmentDelete(segmentId: $segmentId) {
      deletedId
      errors {
        field
        code
        message
      }
    }
  }
`);

const TagSettingsMutation = graphql(`
  mutation ConsoleTagSettingsSet($shopId: ID!, $input: TagSettingsInputType!) {
    tagSettingsSet(shopId: $shopId, input: $input) {
      settings {
        vipTierId
        vipSpend
        newDays
        frequentVisits
        frequentDays
        highValuePercentile
        highValueSpend
        dormantDays
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

type NumberValue = number | string;
/** A marketing consent criterion: left out, required on, or required off. */
export type Consent = 'any' | 'yes' | 'no';

/** The criteria builder's inputs (docs/crm.md, "Segments"). */
export interface CriteriaValues {
  tierIds: string[];
  statuses: string[];
  tagsAny: string[];
  tagsAll: string[];
  tagsNone: string[];
  pointsAvailableMin: NumberValue;
  pointsAvailableMax: NumberValue;
  lifetimePointsMin: NumberValue;
  lifetimePointsMax: NumberValue;
  visitsMin: NumberValue;
  visitsMax: NumberValue;
  totalSpendMin: NumberValue;
  totalSpendMax: NumberValue;
  yearSpendMin: NumberValue;
  yearSpendMax: NumberValue;
  lastVisitDaysMin: NumberValue;
  lastVisitDaysMax: NumberValue;
  joinedDaysMin: NumberValue;
  joinedDaysMax: NumberValue;
  consentEmail: Consent;
  consentSms: Consent;
  consentPush: Consent;
  birthdayMonth: string | null;
}

const LIST_KEYS = ['tierIds', 'statuses', 'tagsAny', 'tagsAll', 'tagsNone'] as const;
const INT_KEYS = [
  'pointsAvailableMin',
  'pointsAvailableMax',
  'lifetimePointsMin',
  'lifetimePointsMax',
  'visitsMin',
  'visitsMax',
  'lastVisitDaysMin',
  'lastVisitDaysMax',
  'joinedDaysMin',
  'joinedDaysMax',
] as const;
const AMOUNT_KEYS = ['totalSpendMin', 'totalSpendMax', 'yearSpendMin', 'yearSpendMax'] as const;
const CONSENT_KEYS = ['consentEmail', 'consentSms', 'consentPush'] as const;
/** Every criterion key, for errors named `criteria.<key>`. */
export const CRITERIA_KEYS = [...LIST_KEYS, ...INT_KEYS, ...AMOUNT_KEYS, ...CONSENT_KEYS, 'birthdayMonth'] as const;
const STATUSES = ['active', 'inactive', 'blocked'];

export const EMPTY_CRITERIA: CriteriaValues = {
  tierIds: [],
  statuses: [],
  tagsAny: [],
  tagsAll: [],
  tagsNone: [],
  pointsAvailableMin: '',
  pointsAvailableMax: '',
  lifetimePointsMin: '',
  lifetimePointsMax: '',
  visitsMin: '',
  visitsMax: '',
  totalSpendMin: '',
  totalSpendMax: '',
  yearSpendMin: '',
  yearSpendMax: '',
  lastVisitDaysMin: '',
  lastVisitDaysMax: '',
  joinedDaysMin: '',
  joinedDaysMax: '',
  consentEmail: 'any',
  consentSms: 'any',
  consentPush: 'any',
  birthdayMonth: null,
};

/** The criteria object of the builder's inputs: only the criteria set, amounts as strings. */
export function criteriaOf(v: CriteriaValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of LIST_KEYS) if (v[k].length) out[k] = v[k];
  for (const k of INT_KEYS) {
    const n = toInt(v[k]);
    if (n !== null) out[k] = n;
  }
  for (const k of AMOUNT_KEYS) {
    const d = toDecimal(v[k]);
    if (d !== null) out[k] = d;
  }
  for (const k of CONSENT_KEYS) if (v[k] !== 'any') out[k] = v[k] === 'yes';
  if (v.birthdayMonth) out.birthdayMonth = Number(v.birthdayMonth);
  return out;
}

/** The builder's inputs of a saved segment's criteria (unknown keys are dropped). */
export function criteriaValues(criteria: unknown): CriteriaValues {
  const c = (criteria && typeof criteria === 'object' ? criteria : {}) as Record<string, unknown>;
  const v: CriteriaValues = { ...EMPTY_CRITERIA };
  for (const k of LIST_KEYS) if (Array.isArray(c[k])) v[k] = (c[k] as unknown[]).map(String);
  for (const k of [...INT_KEYS, ...AMOUNT_KEYS]) if (c[k] !== undefined && c[k] !== null) v[k] = c[k] as NumberValue;
  for (const k of CONSENT_KEYS) if (typeof c[k] === 'boolean') v[k] = c[k] ? 'yes' : 'no';
  if (c.birthdayMonth) v.birthdayMonth = String(c.birthdayMonth);
  return v;
}

type SegmentRow = {
  id: string;
  name: string;
  description: string;
  kind: SegmentKind;
  criteria: unknown;
  count: number;
  updatedAt: string;
  snapshotAt?: string | null;
  snapshotCount: number;
};
type Tier = { id: string; name: string };
type Picked = { id: string; name: string };

/** Segments: the list with counts, a criteria builder with a live count, static member lists, tag thresholds. */
export function SegmentsPage() {
  return (
    <EditorOnly>
      <SegmentsEditor />
    </EditorOnly>
  );
}

function SegmentsEditor() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }, refetch] = useQuery({ query: SegmentsQuery, variables: { slug: shop.slug } });
  const [editing, setEditing] = useState<SegmentRow | 'new' | null>(null);
  const [deleting, setDeleting] = useState<SegmentRow | null>(null);
  const [deleteState, remove] = useMutation(SegmentDeleteMutation);
  const [deleteErrors, setDeleteErrors] = useState<string[]>([]);
  const segments = (data?.shop?.segments ?? []) as SegmentRow[];
  const tiers = data?.shop?.program?.tiers ?? [];

  const doDelete = async () => {
    if (!deleting) return;
    const r = await remove({ segmentId: deleting.id });
    const errs = r.error ? [r.error.graphQLErrors[0]?.message ?? r.error.message] : splitPayloadErrors(r.data?.segmentDelete.errors).general;
    setDeleteErrors(errs);
    if (errs.length === 0) {
      notifySuccess(t('segments.deleted', { name: deleting.name }));
      setDeleting(null);
      refetch({ requestPolicy: 'network-only' });
    }
  };

  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;

  return (
    <Stack>
      <PageHeader title={t('segments.title')} hint={t('segments.hint')}>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
          {t('segments.add')}
        </Button>
      </PageHeader>
      <GeneralErrors messages={deleteErrors} />
      {segments.length === 0 ? (
        <EmptyPanel title={t('segments.empty')} description={t('segments.emptyHint')} />
      ) : (
        <Table.ScrollContainer minWidth={640}>
          <Table striped highlightOnHover verticalSpacing="xs" data-testid="segments-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('segments.columns.name')}</Table.Th>
                <Table.Th>{t('segments.columns.kind')}</Table.Th>
                <Table.Th ta="end">{t('segments.columns.count')}</Table.Th>
                <Table.Th>{t('segments.columns.updated')}</Table.Th>
                <Table.Th>
                  <VisuallyHidden>{t('segments.columns.actions')}</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {segments.map((s) => (
                <Table.Tr key={s.id} data-testid="segment-row" data-segment-name={s.name} data-segment-id={s.id}>
                  <Table.Td>
                    <Text fw={600} size="sm">
                      {s.name}
                    </Text>
                    {s.description ? (
                      <Text size="xs" c="dimmed">
                        {s.description}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={s.kind === 'DYNAMIC' ? 'indigo' : 'gray'}>
                      {t(`segments.kinds.${s.kind}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td ta="end" data-testid="segment-count" data-value={s.count}>
                    {formatPoints(s.count)}
                    {s.kind === 'DYNAMIC' && s.snapshotAt ? (
                      <Text size="xs" c="dimmed" title={t('segments.snapshotHint')} data-testid="segment-snapshot">
                        {t('segments.snapshot', { n: formatPoints(s.snapshotCount), at: formatDateTime(s.snapshotAt) })}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(s.updatedAt)}</Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <Anchor component={Link} to={`/console/${shop.slug}/members?segment=${encodeURIComponent(s.id)}`} size="sm">
                        <Group gap={4} wrap="nowrap">
                          <IconUsers size={14} />
                          {t('segments.showMembers')}
                        </Group>
                      </Anchor>
                      <Button
                        size="xs"
                        variant="light"
                        leftSection={<IconEdit size={14} />}
                        onClick={() => setEditing(s)}
                        aria-label={t('segments.editNamed', { name: s.name })}
                      >
                        {t('common.edit')}
                      </Button>
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        leftSection={<IconTrash size={14} />}
                        onClick={() => {
                          setDeleteErrors([]);
                          setDeleting(s);
                        }}
                        aria-label={t('segments.deleteNamed', { name: s.name })}
                      >
                        {t('common.delete')}
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {data?.shop?.tagSettings ? <TagSettingsCard settings={data.shop.tagSettings} tiers={tiers} onSaved={() => refetch({ requestPolicy: 'network-only' })} /> : null}
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? t('segments.add') : t('segments.edit')} size="xl">
        {editing !== null ? (
          <SegmentForm
            segment={editing === 'new' ? null : editing}
            tiers={tiers}
            onDone={() => {
              setEditing(null);
              refetch({ requestPolicy: 'network-only' });
            }}
          />
        ) : null}
      </Modal>
      <ConfirmDialog
        opened={deleting !== null}
        title={t('segments.deleteTitle')}
        message={t('segments.deleteConfirm', { name: deleting?.name ?? '' })}
        confirmLabel={t('common.delete')}
        loading={deleteState.fetching}
        onConfirm={doDelete}
        onClose={() => setDeleting(null)}
      />
    </Stack>
  );
}

interface SegmentValues {
  name: string;
  description: string;
  kind: SegmentKind;
}

const FORM_FIELDS = ['name', 'description', 'kind', 'accountIds', ...CRITERIA_KEYS.map((k) => `criteria.${k}`)];

function SegmentForm({ segment, tiers, onDone }: { segment: SegmentRow | null; tiers: readonly Tier[]; onDone: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [, create] = useMutation(SegmentCreateMutation);
  const [, update] = useMutation(SegmentUpdateMutation);
  const [saving, setSaving] = useState(false);
  const form = useForm<SegmentValues>({
    initialValues: { name: segment?.name ?? '', description: segment?.description ?? '', kind: segment?.kind ?? 'DYNAMIC' },
    validate: { name: (v) => (v.trim() ? null : t('common.required')) },
  });
  const [criteria, setCriteria] = useState<CriteriaValues>(() => criteriaValues(segment?.criteria));
  const [picked, setPicked] = useState<Picked[]>([]);
  const { general, send } = usePayloadSubmit(form, FORM_FIELDS);

  // A saved static segment: its members so far (the API lists them through the members filter).
  const [{ data: staticData }] = useQuery({
    query: SegmentStaticMembersQuery,
    variables: { slug: shop.slug, segmentId: segment?.id ?? '' },
    pause: !segment || segment.kind !== 'STATIC',
  });
  // The API lists a static segment's members only page by page: past the first 100 the editor
  // cannot hold them all, and saving would drop the rest, so it refuses to save.
  const staticTotal = staticData?.shop?.members.totalCount ?? 0;
  const tooLarge = segment?.kind === 'STATIC' && staticTotal > 100;
  useEffect(() => {
    const edges = staticData?.shop?.members.edges;
    if (edges) setPicked(edges.map(({ node }) => ({ id: node.id, name: node.member.displayName || node.member.email || node.member.phone || node.id })));
  }, [staticData]);

  const submit = form.onSubmit(async (values) => {
    const input = {
      name: values.name.trim(),
      description: values.description,
      kind: values.kind,
      criteria: values.kind === 'DYNAMIC' ? criteriaOf(criteria) : null,
      accountIds: values.kind === 'STATIC' ? picked.map((p) => p.id) : [],
    };
    setSaving(true);
    const answer = await send(
      () => (segment ? update({ segmentId: segment.id, input }) : create({ shopId: shop.id, input })),
      (data) => ('segmentUpdate' in data ? data.segmentUpdate : data.segmentCreate),
    );
    setSaving(false);
    if (!answer) return;
    notifySuccess(t('segments.saved', { name: input.name }));
    onDone();
  });

  // Errors on criteria come back as `criteria.<key>`.
  const saveCriteriaErrors: Record<string, string> = {};
  for (const [k, v] of Object.entries(form.errors)) if (k.startsWith('criteria.') && v) saveCriteriaErrors[k.slice(9)] = String(v);

  return (
    <form onSubmit={submit} noValidate aria-label={t('segments.formLabel')}>
      <Stack>
        <GeneralErrors messages={general} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t('segments.fields.name')} required data-autofocus maxLength={120} {...form.getInputProps('name')} />
          <div>
            <Text size="sm" fw={500} mb={4}>
              {t('segments.fields.kind')}
            </Text>
            <SegmentedControl
              fullWidth
              data={(['DYNAMIC', 'STATIC'] as const).map((k) => ({ value: k, label: t(`segments.kinds.${k}`) }))}
              {...form.getInputProps('kind')}
            />
          </div>
        </SimpleGrid>
        <Textarea label={t('segments.fields.description')} rows={2} maxLength={500} {...form.getInputProps('description')} />
        {form.values.kind === 'DYNAMIC' ? (
          <CriteriaBuilder value={criteria} onChange={setCriteria} tiers={tiers} errors={saveCriteriaErrors} />
        ) : (
          <StaticPicker picked={picked} onChange={setPicked} error={form.errors.accountIds as string | undefined} />
        )}
        {tooLarge && form.values.kind === 'STATIC' ? (
          <Text size="sm" c="red" role="alert">
            {t('segments.static.tooLarge', { n: formatPoints(staticTotal) })}
          </Text>
        ) : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" loading={saving} disabled={tooLarge && form.values.kind === 'STATIC'}>
            {t('common.save')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The criteria of a dynamic segment as inputs, with the live count of the members they select. */
export function CriteriaBuilder({
  value,
  onChange,
  tiers,
  errors = {},
}: {
  value: CriteriaValues;
  onChange: (v: CriteriaValues) => void;
  tiers: readonly Tier[];
  errors?: Record<string, string>;
}) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const set = <K extends keyof CriteriaValues>(key: K, v: CriteriaValues[K]) => onChange({ ...value, [key]: v });
  const criteriaJson = JSON.stringify(criteriaOf(value));
  const [debounced] = useDebouncedValue(criteriaJson, 300);
  const variables = useMemo(() => ({ slug: shop.slug, criteria: JSON.parse(debounced) as unknown }), [shop.slug, debounced]);
  const [{ data, fetching, error }] = useQuery({ query: SegmentPreviewQuery, variables });
  const preview = data?.shop?.segmentPreview;

  // INVALID_CRITERIA names the criterion in extensions.field (`criteria.<key>`).
  const previewErrors: Record<string, string> = {};
  if (errorCode(error) === 'INVALID_CRITERIA') {
    const field = String(error?.graphQLErrors[0]?.extensions?.field ?? '');
    const key = field.replace(/^criteria\./, '');
    if (key) previewErrors[key] = error?.graphQLErrors[0]?.message ?? t('errorCodes.INVALID_CRITERIA');
  }
  const err = (k: string) => errors[k] ?? previewErrors[k];
  const placed = Object.keys(previewErrors).some((k) => (CRITERIA_KEYS as readonly string[]).includes(k));

  const range = (min: keyof CriteriaValues, max: keyof CriteriaValues, label: string, decimal = false) => (
    <>
      <NumberInput
        label={t('segments.criteria.min', { what: label })}
        value={value[min] as NumberValue}
        error={err(min)}
        min={0}
        allowDecimal={decimal}
        decimalScale={decimal ? 2 : undefined}
        onChange={(v) => set(min, v as never)}
      />
      <NumberInput
        label={t('segments.criteria.max', { what: label })}
        value={value[max] as NumberValue}
        error={err(max)}
        min={0}
        allowDecimal={decimal}
        decimalScale={decimal ? 2 : undefined}
        onChange={(v) => set(max, v as never)}
      />
    </>
  );
  const consent = (k: (typeof CONSENT_KEYS)[number]) => (
    <div>
      <Text size="sm" fw={500} mb={4} id={`consent-${k}`}>
        {t(`segments.criteria.${k}`)}
      </Text>
      <SegmentedControl
        fullWidth
        aria-labelledby={`consent-${k}`}
        data-testid={`criteria-${k}`}
        value={value[k]}
        onChange={(v) => set(k, v as Consent)}
        data={(['any', 'yes', 'no'] as const).map((c) => ({ value: c, label: t(`segments.consent.${c}`) }))}
      />
      {err(k) ? (
        <Text size="xs" c="red">
          {err(k)}
        </Text>
      ) : null}
    </div>
  );

  return (
    <Stack gap="sm">
      <Fieldset legend={t('segments.criteria.membership')}>
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          <MultiSelect
            label={t('segments.criteria.tierIds')}
            placeholder={value.tierIds.length ? undefined : t('segments.criteria.anyTier')}
            data={tiers.map((x) => ({ value: x.id, label: x.name }))}
            value={value.tierIds}
            error={err('tierIds')}
            onChange={(v) => set('tierIds', v)}
            clearable
          />
          <MultiSelect
            label={t('segments.criteria.statuses')}
            data={STATUSES.map((s) => ({ value: s, label: t(`memberStatus.${s.toUpperCase()}`) }))}
            value={value.statuses}
            error={err('statuses')}
            onChange={(v) => set('statuses', v)}
            clearable
          />
          <TagsInput label={t('segments.criteria.tagsAny')} value={value.tagsAny} error={err('tagsAny')} onChange={(v) => set('tagsAny', v)} clearable />
          <TagsInput label={t('segments.criteria.tagsAll')} value={value.tagsAll} error={err('tagsAll')} onChange={(v) => set('tagsAll', v)} clearable />
          <TagsInput label={t('segments.criteria.tagsNone')} value={value.tagsNone} error={err('tagsNone')} onChange={(v) => set('tagsNone', v)} clearable />
          {range('joinedDaysMin', 'joinedDaysMax', t('segments.criteria.joinedDays'))}
        </SimpleGrid>
      </Fieldset>
      <Fieldset legend={t('segments.criteria.activity')}>
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          {range('pointsAvailableMin', 'pointsAvailableMax', t('segments.criteria.pointsAvailable'))}
          {range('lifetimePointsMin', 'lifetimePointsMax', t('segments.criteria.lifetimePoints'))}
          {range('visitsMin', 'visitsMax', t('segments.criteria.visits'))}
          {range('totalSpendMin', 'totalSpendMax', t('segments.criteria.totalSpend', { currency: shop.currency }), true)}
          {range('yearSpendMin', 'yearSpendMax', t('segments.criteria.yearSpend', { currency: shop.currency }), true)}
          <NumberInput
            label={t('segments.criteria.lastVisitDaysMin')}
            value={value.lastVisitDaysMin}
            error={err('lastVisitDaysMin')}
            min={0}
            allowDecimal={false}
            onChange={(v) => set('lastVisitDaysMin', v)}
          />
          <NumberInput
            label={t('segments.criteria.lastVisitDaysMax')}
            value={value.lastVisitDaysMax}
            error={err('lastVisitDaysMax')}
            min={0}
            allowDecimal={false}
            onChange={(v) => set('lastVisitDaysMax', v)}
          />
        </SimpleGrid>
      </Fieldset>
      <Fieldset legend={t('segments.criteria.customer')}>
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          {consent('consentEmail')}
          {consent('consentSms')}
          {consent('consentPush')}
          <Select
            label={t('segments.criteria.birthdayMonth')}
            placeholder={t('segments.criteria.anyMonth')}
            data={Array.from({ length: 12 }, (_, i) => ({ value: String(i + 1), label: t(`segments.months.${i + 1}`) }))}
            value={value.birthdayMonth}
            error={err('birthdayMonth')}
            clearable
            onChange={(v) => set('birthdayMonth', v)}
          />
        </SimpleGrid>
      </Fieldset>
      {error && !placed ? <ErrorAlert error={error} /> : null}
      <Paper withBorder p="sm" aria-live="polite">
        <Group justify="space-between">
          <Text fw={600}>{t('segments.liveCountLabel')}</Text>
          <Text
            fw={700}
            size="lg"
            data-testid="segment-live-count"
            data-value={preview && !fetching && debounced === criteriaJson ? preview.count : ''}
            aria-busy={fetching || debounced !== criteriaJson}
          >
            {preview ? t('segments.liveCount', { count: preview.count, n: formatPoints(preview.count) }) : '…'}
          </Text>
        </Group>
        {preview && preview.members.length > 0 ? (
          <Text size="xs" c="dimmed" mt={4} data-testid="segment-preview-members">
            {t('segments.firstMembers', {
              names: preview.members.map((m) => m.member.displayName || m.member.email || m.member.phone || '—').join(', '),
            })}
          </Text>
        ) : null}
      </Paper>
    </Stack>
  );
}

/** A static segment's members: search the shop's members and pick them. */
function StaticPicker({ picked, onChange, error }: { picked: Picked[]; onChange: (p: Picked[]) => void; error?: string }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), 300);
  const [{ data }] = useQuery({ query: SegmentMemberSearchQuery, variables: { slug: shop.slug, search: debounced || null } });
  const found = (data?.shop?.members.edges ?? []).map(({ node }) => ({
    id: node.id,
    name: node.member.displayName || node.member.email || node.member.phone || node.id,
  }));
  const pickedIds = new Set(picked.map((p) => p.id));
  return (
    <Fieldset legend={t('segments.static.legend')}>
      <Stack gap="xs">
        <TextInput
          type="search"
          label={t('segments.static.search')}
          placeholder={t('members.searchPlaceholder')}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          error={error}
        />
        <Group gap={4}>
          {found
            .filter((f) => !pickedIds.has(f.id))
            .map((f) => (
              <Button key={f.id} size="compact-sm" variant="light" leftSection={<IconPlus size={12} />} onClick={() => onChange([...picked, f])}>
                {f.name}
              </Button>
            ))}
        </Group>
        <Title order={6}>{t('segments.static.picked', { count: picked.length, n: formatPoints(picked.length) })}</Title>
        <Group gap={4} data-testid="segment-picked">
          {picked.map((p) => (
            <Badge
              key={p.id}
              variant="outline"
              rightSection={
                <Anchor component="button" type="button" size="xs" aria-label={t('segments.static.remove', { name: p.name })} onClick={() => onChange(picked.filter((x) => x.id !== p.id))}>
                  ×
                </Anchor>
              }
            >
              {p.name}
            </Badge>
          ))}
        </Group>
      </Stack>
    </Fieldset>
  );
}

type TagSettings = {
  vipTierId?: string | null;
  vipSpend?: string | null;
  newDays: number;
  frequentVisits: number;
  frequentDays: number;
  highValuePercentile: number;
  highValueSpend?: string | null;
  dormantDays: number;
};

interface TagSettingsValues {
  vipTierId: string | null;
  vipSpend: NumberValue;
  newDays: NumberValue;
  frequentVisits: NumberValue;
  frequentDays: NumberValue;
  highValuePercentile: NumberValue;
  dormantDays: NumberValue;
}
const TAG_FIELDS = ['vipTierId', 'vipSpend', 'newDays', 'frequentVisits', 'frequentDays', 'highValuePercentile', 'dormantDays'];

/** The automatic tags' thresholds (`tagSettingsSet`). */
export function TagSettingsCard({ settings, tiers, onSaved }: { settings: TagSettings; tiers: readonly Tier[]; onSaved: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [state, save] = useMutation(TagSettingsMutation);
  const form = useForm<TagSettingsValues>({
    initialValues: {
      vipTierId: settings.vipTierId ?? null,
      vipSpend: settings.vipSpend ?? '',
      newDays: settings.newDays,
      frequentVisits: settings.frequentVisits,
      frequentDays: settings.frequentDays,
      highValuePercentile: settings.highValuePercentile,
      dormantDays: settings.dormantDays,
    },
  });
  const { general, send } = usePayloadSubmit(form, TAG_FIELDS);
  const submit = form.onSubmit(async (v) => {
    const input = {
      vipTierId: v.vipTierId || null,
      vipSpend: toDecimal(v.vipSpend),
      newDays: toInt(v.newDays) ?? 30,
      frequentVisits: toInt(v.frequentVisits) ?? 4,
      frequentDays: toInt(v.frequentDays) ?? 90,
      highValuePercentile: toInt(v.highValuePercentile) ?? 90,
      dormantDays: toInt(v.dormantDays) ?? 90,
    };
    const answer = await send(() => save({ shopId: shop.id, input }), (data) => data.tagSettingsSet);
    if (!answer) return;
    notifySuccess(t('segments.tags.saved'));
    onSaved();
  });
  const int = (k: keyof TagSettingsValues, min: number, max: number) => (
    <NumberInput label={t(`segments.tags.${k}`)} min={min} max={max} allowDecimal={false} {...form.getInputProps(k)} />
  );
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="tag-settings-title" data-testid="tag-settings">
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <Title order={4} id="tag-settings-title">
            {t('segments.tags.title')}
          </Title>
          <Text size="sm" c="dimmed">
            {t('segments.tags.hint')}
          </Text>
          <GeneralErrors messages={general} />
          <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }} spacing="sm">
            <Select
              label={t('segments.tags.vipTierId')}
              placeholder={t('segments.tags.notByTier')}
              data={tiers.map((x) => ({ value: x.id, label: x.name }))}
              clearable
              {...form.getInputProps('vipTierId')}
            />
            <NumberInput label={t('segments.tags.vipSpend', { currency: shop.currency })} min={0} decimalScale={2} {...form.getInputProps('vipSpend')} />
            {int('newDays', 1, 3650)}
            {int('frequentVisits', 1, 1000)}
            {int('frequentDays', 1, 3650)}
            <NumberInput
              label={t('segments.tags.highValuePercentile')}
              description={settings.highValueSpend ? t('segments.tags.highValueSpend', { amount: settings.highValueSpend }) : undefined}
              min={1}
              max={99}
              allowDecimal={false}
              {...form.getInputProps('highValuePercentile')}
            />
            {int('dormantDays', 1, 3650)}
          </SimpleGrid>
          <Group justify="flex-end">
            <Button type="submit" loading={state.fetching}>
              {t('common.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

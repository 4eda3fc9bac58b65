import { useState } from 'react';
import {
  Badge,
  Button,
  Chip,
  Fieldset,
  Group,
  Modal,
  MultiSelect,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  TagsInput,
  Text,
  TextInput,
  Textarea,
  VisuallyHidden,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconArchive, IconEdit, IconPlus } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { PromotionInput, PromotionKind, PromotionStacking } from '../gql/graphql';
import { formatMoney, formatNumber, formatPoints } from '../lib/format';
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
  splitPayloadErrors,
  toDecimal,
  toInt,
  useConsoleShop,
  usePayloadSubmit,
} from './shared';
import { isoToLocal, localToIso } from './time';

/** Every promotion field the editor reads and writes back, and the promotion's figures. */
export const ConsolePromotionFieldsFragment = graphql(`
  fragment ConsolePromotionFields on Promotion {
    id
    name
    description
    kind
    value
    buyQuantity
    getQuantity
    freeProductId
    productIds
    categorySlugs
    tierIds
    paymentTypes
    minimumAmount
    startsAt
    endsAt
    weekdays
    hourFrom
    hourTo
    requiresCoupon
    priority
    stacking
    usageLimit
    usageLimitPerMember
    active
    createdAt
    stats {
      uses
      discountGiven
      revenue
    }
  }
`);

const PromotionsQuery = graphql(`
  query ConsolePromotions($slug: String!, $includeArchived: Boolean!) {
    shop(slug: $slug) {
      id
      promotions(includeArchived: $includeArchived) {
        ...ConsolePromotionFields
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

const PromotionCreateMutation = graphql(`
  mutation ConsolePromotionCreate($shopId: ID!, $input: PromotionInput!) {
    promotionCreate(shopId: $shopId, input: $input) {
      promotion {
        ...ConsolePromotionFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const PromotionUpdateMutation = graphql(`
  mutation ConsolePromotionUpdate($promotionId: ID!, $input: PromotionInput!) {
    promotionUpdate(promotionId: $promotionId, input: $input) {
      promotion {
        ...ConsolePromotionFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

/** The promotion kinds, in the order the form offers them. */
export const PROMOTION_KINDS: PromotionKind[] = ['PERCENTAGE', 'FIXED_AMOUNT', 'BASKET_DISCOUNT', 'BUY_X_GET_Y', 'CHEAPEST_FREE', 'FREE_PRODUCT'];
const STACKINGS: PromotionStacking[] = ['STACKABLE', 'EXCLUSIVE'];
/** ISO weekdays, Monday first. */
const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

type NumberValue = number | string;

/** A promotion as the page reads it. */
export type PromotionRow = {
  id: string;
  name: string;
  description: string;
  kind: PromotionKind;
  value: string;
  buyQuantity: number;
  getQuantity: number;
  freeProductId?: string | null;
  productIds: string[];
  categorySlugs: string[];
  tierIds: string[];
  paymentTypes: string[];
  minimumAmount: string;
  startsAt?: string | null;
  endsAt?: string | null;
  weekdays: number[];
  hourFrom?: number | null;
  hourTo?: number | null;
  requiresCoupon: boolean;
  priority: number;
  stacking: PromotionStacking;
  usageLimit?: number | null;
  usageLimitPerMember?: number | null;
  active: boolean;
  createdAt: string;
  stats: { uses: number; discountGiven: string; revenue: string };
};

/** The promotion form's values. */
export interface PromotionValues {
  name: string;
  description: string;
  kind: PromotionKind;
  value: NumberValue;
  buyQuantity: NumberValue;
  getQuantity: NumberValue;
  freeProductId: string;
  productIds: string[];
  categorySlugs: string[];
  tierIds: string[];
  paymentTypes: string[];
  minimumAmount: NumberValue;
  startsAt: string | null;
  endsAt: string | null;
  weekdays: string[];
  hourFrom: NumberValue;
  hourTo: NumberValue;
  requiresCoupon: boolean;
  priority: NumberValue;
  stacking: PromotionStacking;
  usageLimit: NumberValue;
  usageLimitPerMember: NumberValue;
  active: boolean;
}

const FORM_FIELDS = [
  'name',
  'description',
  'kind',
  'value',
  'buyQuantity',
  'getQuantity',
  'freeProductId',
  'productIds',
  'categorySlugs',
  'tierIds',
  'paymentTypes',
  'minimumAmount',
  'startsAt',
  'endsAt',
  'weekdays',
  'hourFrom',
  'hourTo',
  'requiresCoupon',
  'priority',
  'stacking',
  'usageLimit',
  'usageLimitPerMember',
  'active',
];

/** Kinds whose `value` is a percentage (the rest: an amount in the shop's currency, or unused). */
const PERCENT_KINDS = new Set<PromotionKind>(['PERCENTAGE', 'BUY_X_GET_Y']);
/** Kinds that read `value` at all. */
const VALUE_KINDS = new Set<PromotionKind>(['PERCENTAGE', 'FIXED_AMOUNT', 'BASKET_DISCOUNT', 'BUY_X_GET_Y']);
/** Kinds that read buy / get quantities. */
const QUANTITY_KINDS = new Set<PromotionKind>(['BUY_X_GET_Y', 'CHEAPEST_FREE']);

/** The promotion's value as the list shows it: a percentage, an amount, or nothing. */
export function promotionValue(p: Pick<PromotionRow, 'kind' | 'value' | 'buyQuantity' | 'getQuantity'>, currency: string): string {
  if (p.kind === 'BUY_X_GET_Y') return `${formatPoints(p.buyQuantity)} + ${formatPoints(p.getQuantity)} · ${formatNumber(p.value)}%`;
  if (PERCENT_KINDS.has(p.kind)) return `${formatNumber(p.value)}%`;
  if (p.kind === 'CHEAPEST_FREE') return `${formatPoints(p.buyQuantity)}+`;
  if (p.kind === 'FREE_PRODUCT') return '—';
  return formatMoney(p.value, currency);
}

function toValues(p: PromotionRow | null, timeZone: string): PromotionValues {
  return {
    name: p?.name ?? '',
    description: p?.description ?? '',
    kind: p?.kind ?? 'PERCENTAGE',
    value: p?.value ?? '',
    buyQuantity: p?.buyQuantity ?? 0,
    getQuantity: p?.getQuantity ?? 0,
    freeProductId: p?.freeProductId ?? '',
    productIds: p?.productIds ?? [],
    categorySlugs: p?.categorySlugs ?? [],
    tierIds: p?.tierIds ?? [],
    paymentTypes: p?.paymentTypes ?? [],
    minimumAmount: p?.minimumAmount ?? 0,
    startsAt: isoToLocal(p?.startsAt, timeZone),
    endsAt: isoToLocal(p?.endsAt, timeZone),
    weekdays: (p?.weekdays ?? []).map(String),
    hourFrom: p?.hourFrom ?? '',
    hourTo: p?.hourTo ?? '',
    requiresCoupon: p?.requiresCoupon ?? false,
    priority: p?.priority ?? 10,
    stacking: p?.stacking ?? 'STACKABLE',
    usageLimit: p?.usageLimit ?? '',
    usageLimitPerMember: p?.usageLimitPerMember ?? '',
    active: p?.active ?? true,
  };
}

/** The full `PromotionInput` (an update replaces every setting, so nothing may be left out). */
export function promotionInput(v: PromotionValues, timeZone: string): PromotionInput {
  return {
    name: v.name.trim(),
    description: v.description,
    kind: v.kind,
    value: toDecimal(v.value) ?? '0',
    buyQuantity: toInt(v.buyQuantity) ?? 0,
    getQuantity: toInt(v.getQuantity) ?? 0,
    freeProductId: v.freeProductId.trim() || null,
    productIds: v.productIds,
    categorySlugs: v.categorySlugs,
    tierIds: v.tierIds,
    paymentTypes: v.paymentTypes,
    minimumAmount: toDecimal(v.minimumAmount) ?? '0',
    startsAt: localToIso(v.startsAt, timeZone),
    endsAt: localToIso(v.endsAt, timeZone),
    weekdays: v.weekdays.map(Number).sort((a, b) => a - b),
    hourFrom: toInt(v.hourFrom),
    hourTo: toInt(v.hourTo),
    requiresCoupon: v.requiresCoupon,
    priority: toInt(v.priority) ?? 10,
    stacking: v.stacking,
    usageLimit: toInt(v.usageLimit),
    usageLimitPerMember: toInt(v.usageLimitPerMember),
    active: v.active,
  };
}

/** The shop's promotions with their figures: create, edit, archive (active = false). */
export function PromotionsPage() {
  return (
    <EditorOnly>
      <PromotionsEditor />
    </EditorOnly>
  );
}

function YesNo({ value }: { value: boolean }) {
  const { t } = useTranslation('console');
  return (
    <Badge variant="light" color={value ? 'teal' : 'gray'}>
      {value ? t('promotions.yes') : t('promotions.no')}
    </Badge>
  );
}

function PromotionsEditor() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [includeArchived, setIncludeArchived] = useState(false);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: PromotionsQuery,
    variables: { slug: shop.slug, includeArchived },
  });
  const [editing, setEditing] = useState<PromotionRow | 'new' | null>(null);
  const [archiving, setArchiving] = useState<PromotionRow | null>(null);
  const [archiveState, archive] = useMutation(PromotionUpdateMutation);
  const [archiveErrors, setArchiveErrors] = useState<string[]>([]);
  const promotions = (data?.shop?.promotions ?? []) as PromotionRow[];
  const tiers = data?.shop?.program?.tiers ?? [];
  const tierName = (id: string) => tiers.find((tier) => tier.id === id)?.name ?? id;

  const doArchive = async () => {
    if (!archiving) return;
    const input = { ...promotionInput(toValues(archiving, shop.timezone), shop.timezone), active: false };
    const r = await archive({ promotionId: archiving.id, input });
    const errs = r.error
      ? [r.error.graphQLErrors[0]?.message ?? r.error.message]
      : splitPayloadErrors(r.data?.promotionUpdate.errors).general;
    setArchiveErrors(errs);
    if (errs.length === 0) {
      notifySuccess(t('promotions.archived', { name: archiving.name }));
      setArchiving(null);
      refetch({ requestPolicy: 'network-only' });
    }
  };

  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;

  return (
    <Stack>
      <PageHeader title={t('promotions.title')} hint={t('promotions.hint')}>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
          {t('promotions.add')}
        </Button>
      </PageHeader>
      <Switch
        label={t('promotions.showArchived')}
        checked={includeArchived}
        onChange={(event) => setIncludeArchived(event.currentTarget.checked)}
      />
      <GeneralErrors messages={archiveErrors} />
      {promotions.length === 0 ? (
        <EmptyPanel title={t('promotions.empty')} description={t('promotions.emptyHint')} />
      ) : (
        <Table.ScrollContainer minWidth={960}>
          <Table striped highlightOnHover verticalSpacing="xs" data-testid="promotions-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('promotions.columns.name')}</Table.Th>
                <Table.Th>{t('promotions.columns.kind')}</Table.Th>
                <Table.Th>{t('promotions.columns.value')}</Table.Th>
                <Table.Th>{t('promotions.columns.priority')}</Table.Th>
                <Table.Th>{t('promotions.columns.stacking')}</Table.Th>
                <Table.Th>{t('promotions.columns.requiresCoupon')}</Table.Th>
                <Table.Th>{t('promotions.columns.active')}</Table.Th>
                <Table.Th>{t('promotions.columns.uses')}</Table.Th>
                <Table.Th>{t('promotions.columns.discountGiven')}</Table.Th>
                <Table.Th>{t('promotions.columns.revenue')}</Table.Th>
                <Table.Th>
                  <VisuallyHidden>{t('promotions.columns.actions')}</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {promotions.map((p) => (
                <Table.Tr key={p.id} data-testid="console-promotion" data-promotion-name={p.name} data-active={p.active}>
                  <Table.Td>
                    <Text fw={600} size="sm" c={p.active ? undefined : 'dimmed'}>
                      {p.name}
                    </Text>
                    {p.tierIds.length > 0 ? (
                      <Text size="xs" c="dimmed">
                        {t('promotions.tiersLine', { tiers: p.tierIds.map(tierName).join(', ') })}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light">{t(`promotions.kinds.${p.kind}`)}</Badge>
                  </Table.Td>
                  <Table.Td>{promotionValue(p, shop.currency)}</Table.Td>
                  <Table.Td>{formatPoints(p.priority)}</Table.Td>
                  <Table.Td>{t(`promotions.stackings.${p.stacking}`)}</Table.Td>
                  <Table.Td>
                    <YesNo value={p.requiresCoupon} />
                  </Table.Td>
                  <Table.Td>
                    <YesNo value={p.active} />
                  </Table.Td>
                  <Table.Td data-testid="promotion-uses">{formatPoints(p.stats.uses)}</Table.Td>
                  <Table.Td>{formatMoney(p.stats.discountGiven, shop.currency)}</Table.Td>
                  <Table.Td>{formatMoney(p.stats.revenue, shop.currency)}</Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <Button
                        size="xs"
                        variant="light"
                        leftSection={<IconEdit size={14} />}
                        onClick={() => setEditing(p)}
                        aria-label={t('promotions.editNamed', { name: p.name })}
                      >
                        {t('common.edit')}
                      </Button>
                      {p.active ? (
                        <Button
                          size="xs"
                          variant="subtle"
                          color="red"
                          leftSection={<IconArchive size={14} />}
                          onClick={() => {
                            setArchiveErrors([]);
                            setArchiving(p);
                          }}
                          aria-label={t('promotions.archiveNamed', { name: p.name })}
                        >
                          {t('promotions.archive')}
                        </Button>
                      ) : null}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={editing === 'new' ? t('promotions.add') : t('promotions.edit')}
        size="xl"
      >
        {editing !== null ? (
          <PromotionForm
            promotion={editing === 'new' ? null : editing}
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
        title={t('promotions.archiveTitle')}
        message={t('promotions.archiveConfirm', { name: archiving?.name ?? '' })}
        confirmLabel={t('promotions.archive')}
        loading={archiveState.fetching}
        onConfirm={doArchive}
        onClose={() => setArchiving(null)}
      />
    </Stack>
  );
}

function PromotionForm({
  promotion,
  tiers,
  onDone,
}: {
  promotion: PromotionRow | null;
  tiers: readonly { id: string; name: string }[];
  onDone: () => void;
}) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [createState, create] = useMutation(PromotionCreateMutation);
  const [updateState, update] = useMutation(PromotionUpdateMutation);
  const form = useForm<PromotionValues>({
    initialValues: toValues(promotion, shop.timezone),
    validate: {
      name: (v) => (v.trim() ? null : t('common.required')),
      value: (v, values) => (VALUE_KINDS.has(values.kind) && toDecimal(v) === null ? t('common.required') : null),
      buyQuantity: (v, values) => (QUANTITY_KINDS.has(values.kind) && !(toInt(v) && toInt(v)! > 0) ? t('promotions.errors.buyQuantity') : null),
      freeProductId: (v, values) => (values.kind === 'FREE_PRODUCT' && !v.trim() ? t('common.required') : null),
      hourTo: (v, values) => {
        const [from, to] = [toInt(values.hourFrom), toInt(v)];
        return (from === null) !== (to === null) ? t('promotions.errors.hours') : null;
      },
    },
  });
  const { general, send } = usePayloadSubmit(form, FORM_FIELDS);

  const submit = form.onSubmit(async (values) => {
    const input = promotionInput(values, shop.timezone);
    const answer = await send(
      () => (promotion ? update({ promotionId: promotion.id, input }) : create({ shopId: shop.id, input })),
      (data) => ('promotionUpdate' in data ? data.promotionUpdate : data.promotionCreate),
    );
    if (!answer) return;
    notifySuccess(t('promotions.saved', { name: values.name }));
    onDone();
  });

  const kind = form.values.kind;
  return (
    <form onSubmit={submit} noValidate aria-label={t('promotions.formLabel')}>
      <Stack>
        <GeneralErrors messages={general} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t('promotions.fields.name')} required data-autofocus {...form.getInputProps('name')} />
          <Select
            label={t('promotions.fields.kind')}
            description={t(`promotions.kindHints.${kind}`)}
            data={PROMOTION_KINDS.map((k) => ({ value: k, label: t(`promotions.kinds.${k}`) }))}
            allowDeselect={false}
            {...form.getInputProps('kind')}
          />
        </SimpleGrid>
        <Textarea label={t('promotions.fields.description')} rows={2} {...form.getInputProps('description')} />
        <Fieldset legend={t('promotions.sections.offer')}>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <NumberInput
              label={PERCENT_KINDS.has(kind) ? t('promotions.fields.percent') : t('promotions.fields.value', { currency: shop.currency })}
              disabled={!VALUE_KINDS.has(kind)}
              required={VALUE_KINDS.has(kind)}
              min={0}
              max={PERCENT_KINDS.has(kind) ? 100 : undefined}
              decimalScale={2}
              {...form.getInputProps('value')}
            />
            <NumberInput
              label={t('promotions.fields.buyQuantity')}
              min={0}
              allowDecimal={false}
              disabled={!QUANTITY_KINDS.has(kind)}
              {...form.getInputProps('buyQuantity')}
            />
            <NumberInput
              label={t('promotions.fields.getQuantity')}
              min={0}
              allowDecimal={false}
              disabled={kind !== 'BUY_X_GET_Y' && kind !== 'FREE_PRODUCT'}
              {...form.getInputProps('getQuantity')}
            />
            <TextInput
              label={t('promotions.fields.freeProductId')}
              disabled={kind !== 'FREE_PRODUCT'}
              required={kind === 'FREE_PRODUCT'}
              {...form.getInputProps('freeProductId')}
            />
            <NumberInput
              label={t('promotions.fields.minimumAmount', { currency: shop.currency })}
              min={0}
              decimalScale={2}
              {...form.getInputProps('minimumAmount')}
            />
          </SimpleGrid>
        </Fieldset>
        <Fieldset legend={t('promotions.sections.targeting')}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TagsInput
              label={t('promotions.fields.productIds')}
              description={t('promotions.hints.all')}
              {...form.getInputProps('productIds')}
            />
            <TagsInput
              label={t('promotions.fields.categorySlugs')}
              description={t('promotions.hints.all')}
              {...form.getInputProps('categorySlugs')}
            />
            <MultiSelect
              label={t('promotions.fields.tierIds')}
              description={t('promotions.hints.allTiers')}
              data={tiers.map((tier) => ({ value: tier.id, label: tier.name }))}
              clearable
              {...form.getInputProps('tierIds')}
            />
            <TagsInput
              label={t('promotions.fields.paymentTypes')}
              description={t('promotions.hints.allPayments')}
              data={['card', 'cash', 'gift_card', 'mobile']}
              {...form.getInputProps('paymentTypes')}
            />
          </SimpleGrid>
        </Fieldset>
        <Fieldset legend={t('promotions.sections.schedule')}>
          <Stack>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <ShopDateTimePicker label={t('promotions.fields.startsAt')} placeholder={t('promotions.always')} {...form.getInputProps('startsAt')} />
              <ShopDateTimePicker label={t('promotions.fields.endsAt')} placeholder={t('promotions.always')} {...form.getInputProps('endsAt')} />
            </SimpleGrid>
            <Stack gap={4}>
              <Text size="sm" fw={500} id="promotion-weekdays">
                {t('promotions.fields.weekdays')}
              </Text>
              <Chip.Group multiple {...form.getInputProps('weekdays')}>
                <Group gap={6} role="group" aria-labelledby="promotion-weekdays">
                  {WEEKDAYS.map((d) => (
                    <Chip key={d} value={String(d)} size="xs">
                      {t(`promotions.weekdays.${d}`)}
                    </Chip>
                  ))}
                </Group>
              </Chip.Group>
              <Text size="xs" c="dimmed">
                {t('promotions.hints.weekdays')}
              </Text>
            </Stack>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <NumberInput
                label={t('promotions.fields.hourFrom')}
                description={t('promotions.hints.hours')}
                placeholder={t('promotions.allDay')}
                min={0}
                max={23}
                allowDecimal={false}
                {...form.getInputProps('hourFrom')}
              />
              <NumberInput
                label={t('promotions.fields.hourTo')}
                placeholder={t('promotions.allDay')}
                min={1}
                max={24}
                allowDecimal={false}
                {...form.getInputProps('hourTo')}
              />
            </SimpleGrid>
          </Stack>
        </Fieldset>
        <Fieldset legend={t('promotions.sections.rules')}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput
              label={t('promotions.fields.priority')}
              description={t('promotions.hints.priority')}
              allowDecimal={false}
              {...form.getInputProps('priority')}
            />
            <Select
              label={t('promotions.fields.stacking')}
              description={t(`promotions.stackingHints.${form.values.stacking}`)}
              data={STACKINGS.map((s) => ({ value: s, label: t(`promotions.stackings.${s}`) }))}
              allowDeselect={false}
              {...form.getInputProps('stacking')}
            />
            <NumberInput
              label={t('promotions.fields.usageLimit')}
              placeholder={t('promotions.unlimited')}
              min={1}
              allowDecimal={false}
              {...form.getInputProps('usageLimit')}
            />
            <NumberInput
              label={t('promotions.fields.usageLimitPerMember')}
              placeholder={t('promotions.unlimited')}
              min={1}
              allowDecimal={false}
              {...form.getInputProps('usageLimitPerMember')}
            />
          </SimpleGrid>
          <Group mt="md">
            <Switch label={t('promotions.fields.requiresCoupon')} {...form.getInputProps('requiresCoupon', { type: 'checkbox' })} />
            <Switch label={t('promotions.fields.active')} {...form.getInputProps('active', { type: 'checkbox' })} />
          </Group>
        </Fieldset>
        <Group justify="flex-end">
          <Button type="submit" loading={createState.fetching || updateState.fetching}>
            {t('common.save')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

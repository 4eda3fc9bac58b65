import { useEffect, useMemo, useState } from 'react';
import {
  Alert,
  Badge,
  Button,
  Fieldset,
  Group,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Paper,
  Text,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconCheck } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { formatDateTime, formatPoints } from '../lib/format';
import {
  EditorOnly,
  EmptyPanel,
  ErrorAlert,
  GeneralErrors,
  PageLoader,
  toDecimal,
  toInt,
  useConsoleShop,
  usePayloadSubmit,
} from './shared';

const SettingsQuery = graphql(`
  query ConsoleSettings($slug: String!) {
    shop(slug: $slug) {
      id
      program {
        id
        name
        pointsPerCurrencyUnit
        minimumOrderAmount
        pendingDays
        expiryMonths
        tierBasis
        tierWindow
        downgradePolicy
        downgradeGraceDays
        welcomeBonusPoints
        birthdayBonusPoints
        pointValue
        pointsPaymentMaxPercent
        pointsPaymentMinPoints
        active
      }
    }
  }
`);

const ProgramUpdateMutation = graphql(`
  mutation ConsoleProgramUpdate($shopId: ID!, $input: ProgramUpdateInput!) {
    programUpdate(shopId: $shopId, input: $input) {
      program {
        id
        pointsPerCurrencyUnit
        minimumOrderAmount
        pendingDays
        expiryMonths
        tierBasis
        tierWindow
        downgradePolicy
        downgradeGraceDays
        welcomeBonusPoints
        birthdayBonusPoints
        pointValue
        pointsPaymentMaxPercent
        pointsPaymentMinPoints
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

const ChangesQuery = graphql(`
  query ConsoleProgramChanges($slug: String!, $first: Int!) {
    shop(slug: $slug) {
      id
      program {
        id
        changes(first: $first) {
          totalCount
          pageInfo {
            hasNextPage
          }
          edges {
            node {
              id
              changedAt
              changedBy
              changes {
                field
                old
                new
              }
            }
          }
        }
      }
    }
  }
`);

type NumberValue = number | string;

/** The form's values; numbers stay strings/numbers as Mantine's NumberInput gives them. */
export interface SettingsValues {
  pointsPerCurrencyUnit: NumberValue;
  minimumOrderAmount: NumberValue;
  pointValue: NumberValue;
  pendingDays: NumberValue;
  expiryMonths: NumberValue;
  tierBasis: string;
  tierWindow: string;
  downgradePolicy: string;
  downgradeGraceDays: NumberValue;
  welcomeBonusPoints: NumberValue;
  birthdayBonusPoints: NumberValue;
  pointsPaymentMaxPercent: NumberValue;
  pointsPaymentMinPoints: NumberValue;
  active: boolean;
}

const FIELDS: (keyof SettingsValues)[] = [
  'pointsPerCurrencyUnit',
  'minimumOrderAmount',
  'pointValue',
  'pendingDays',
  'expiryMonths',
  'tierBasis',
  'tierWindow',
  'downgradePolicy',
  'downgradeGraceDays',
  'welcomeBonusPoints',
  'birthdayBonusPoints',
  'pointsPaymentMaxPercent',
  'pointsPaymentMinPoints',
  'active',
];
const DECIMALS = new Set<keyof SettingsValues>(['pointsPerCurrencyUnit', 'minimumOrderAmount', 'pointValue', 'pointsPaymentMaxPercent']);
/** Integer fields where an empty input means null (the API's "return window" / "never"). */
const NULLABLE_INTS = new Set<keyof SettingsValues>(['pendingDays', 'expiryMonths']);

type ProgramSettings = {
  pointsPerCurrencyUnit: string;
  minimumOrderAmount: string;
  pointValue: string;
  pendingDays: number;
  expiryMonths?: number | null;
  tierBasis: string;
  tierWindow: string;
  downgradePolicy: string;
  downgradeGraceDays: number;
  welcomeBonusPoints: number;
  birthdayBonusPoints: number;
  pointsPaymentMaxPercent: string;
  pointsPaymentMinPoints: number;
  active: boolean;
};

function toValues(p: ProgramSettings): SettingsValues {
  return {
    pointsPerCurrencyUnit: p.pointsPerCurrencyUnit,
    minimumOrderAmount: p.minimumOrderAmount,
    pointValue: p.pointValue,
    pendingDays: p.pendingDays,
    expiryMonths: p.expiryMonths ?? '',
    tierBasis: p.tierBasis,
    tierWindow: p.tierWindow,
    downgradePolicy: p.downgradePolicy,
    downgradeGraceDays: p.downgradeGraceDays,
    welcomeBonusPoints: p.welcomeBonusPoints,
    birthdayBonusPoints: p.birthdayBonusPoints,
    pointsPaymentMaxPercent: p.pointsPaymentMaxPercent,
    pointsPaymentMinPoints: p.pointsPaymentMinPoints,
    active: p.active,
  };
}

function sameValue(key: keyof SettingsValues, a: unknown, b: unknown): boolean {
  if (DECIMALS.has(key)) {
    const [x, y] = [toDecimal(a as NumberValue), toDecimal(b as NumberValue)];
    return x === y || (x !== null && y !== null && Number(x) === Number(y));
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  return String(a ?? '') === String(b ?? '');
}

/** The `ProgramUpdateInput` of the fields that differ from `initial` (the API audits each). */
export function settingsChanges(initial: SettingsValues, values: SettingsValues): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const key of FIELDS) {
    if (sameValue(key, initial[key], values[key])) continue;
    const v = values[key];
    if (DECIMALS.has(key)) input[key] = toDecimal(v as NumberValue);
    else if (key === 'active') input[key] = v;
    else if (typeof v === 'string' && ['tierBasis', 'tierWindow', 'downgradePolicy'].includes(key)) input[key] = v;
    else if (NULLABLE_INTS.has(key)) input[key] = toInt(v as NumberValue);
    else input[key] = toInt(v as NumberValue) ?? 0;
  }
  return input;
}

/**
 * A readable name for an audited setting: program fields by their label, tier and rule
 * fields (`tier[<id>].threshold`, `earningRule[<id>].name`) as "Tier <id> · Threshold".
 */
export function settingLabel(field: string, t: (key: string, options?: Record<string, unknown>) => string): string {
  const m = /^(tier|earningRule)\[([^\]]+)\](?:\.(.+))?$/.exec(field);
  if (!m) return t(`settings.fields.${field}`, { defaultValue: field });
  const [, entity, id, sub] = m;
  const owner = t(`settings.entity.${entity}`, { id });
  if (!sub) return owner;
  const label =
    entity === 'tier'
      ? t(`settings.tierFields.${sub}`, { defaultValue: sub })
      : t(`rules.fields.${sub}`, { defaultValue: sub, currency: '' }).replace(/\s*\(\)$/, '');
  return `${owner} · ${label}`;
}

/** An audited value as people say it: on/off for flags, "none" for an empty value. */
function changeValue(value: string | null | undefined, t: (key: string, options?: Record<string, unknown>) => string): string {
  if (value == null || value === '' || value === 'None' || value === '[]') return t('settings.change.none');
  if (value === 'True') return t('settings.change.on');
  if (value === 'False') return t('settings.change.off');
  return value;
}

/**
 * One audited change as a sentence ("Active changed from on to off", "Earning rule 3 deleted"),
 * never the raw `Active: True`.
 */
export function changeSentence(
  c: { field: string; old?: string | null; new?: string | null },
  t: (key: string, options?: Record<string, unknown>) => string,
): string {
  const field = settingLabel(c.field, t);
  const removedEntity = /^(tier|earningRule)\[[^\]]+\]$/.test(c.field) && c.new == null;
  if (removedEntity) return t('settings.change.removed', { field });
  if (c.old == null) return t('settings.change.set', { field, new: changeValue(c.new, t) });
  if (c.new == null || c.new === '') return t('settings.change.cleared', { field, old: changeValue(c.old, t) });
  return t('settings.change.changed', { field, old: changeValue(c.old, t), new: changeValue(c.new, t) });
}

/** Program settings form (every `programUpdate` field) and the audit of past changes. */
export function SettingsPage() {
  return (
    <EditorOnly>
      <SettingsPageInner />
    </EditorOnly>
  );
}

function SettingsPageInner() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }] = useQuery({ query: SettingsQuery, variables: { slug: shop.slug } });
  const program = data?.shop?.program;

  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;
  if (!program) return <EmptyPanel title={t('settings.noProgram')} description={t('settings.noProgramHint')} />;

  return (
    <Stack gap="xl">
      <Title order={2}>{t('settings.title', { name: program.name })}</Title>
      <SettingsForm program={program} />
      <ProgramChanges />
    </Stack>
  );
}

function SettingsForm({ program }: { program: ProgramSettings }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ fetching }, update] = useMutation(ProgramUpdateMutation);
  const initial = useMemo(() => toValues(program), [program]);
  const [saved, setSaved] = useState<'saved' | 'unchanged' | null>(null);
  const form = useForm<SettingsValues>({ initialValues: initial });
  const { general, clearGeneral, send } = usePayloadSubmit(form, FIELDS);

  // A refetch (another tab, an audit reload) brings new values: adopt them unless editing.
  useEffect(() => {
    if (!form.isDirty()) {
      form.setValues(initial);
      form.resetDirty(initial);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [initial]);

  const submit = form.onSubmit(async (values) => {
    clearGeneral();
    setSaved(null);
    const input = settingsChanges(form.getInitialValues(), values);
    if (Object.keys(input).length === 0) {
      setSaved('unchanged');
      return;
    }
    const answer = await send(() => update({ shopId: shop.id, input }), (data) => data.programUpdate);
    if (!answer) return;
    const { payload } = answer;
    if (payload?.program) {
      const next = toValues(payload.program);
      form.setValues(next);
      form.resetDirty(next);
      form.setInitialValues(next);
    }
    setSaved('saved');
  });

  const basisUnit = form.values.tierBasis === 'POINTS' ? t('common.points') : shop.currency;

  return (
    <form onSubmit={submit} noValidate aria-label={t('settings.formLabel')}>
      <Stack>
        <GeneralErrors messages={general} />
        <Fieldset legend={t('settings.earning')}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput
              label={t('settings.fields.pointsPerCurrencyUnit')}
              description={t('settings.hints.pointsPerCurrencyUnit', { currency: shop.currency })}
              min={0}
              max={1000}
              decimalScale={4}
              {...form.getInputProps('pointsPerCurrencyUnit')}
            />
            <NumberInput
              label={t('settings.fields.minimumOrderAmount')}
              description={t('settings.hints.minimumOrderAmount', { currency: shop.currency })}
              min={0}
              decimalScale={2}
              {...form.getInputProps('minimumOrderAmount')}
            />
            <NumberInput
              label={t('settings.fields.pointValue')}
              description={t('settings.hints.pointValue', { currency: shop.currency })}
              min={0}
              decimalScale={6}
              {...form.getInputProps('pointValue')}
            />
            <Switch
              mt="md"
              label={t('settings.fields.active')}
              description={t('settings.hints.active')}
              {...form.getInputProps('active', { type: 'checkbox' })}
            />
          </SimpleGrid>
        </Fieldset>
        <Fieldset legend={t('settings.lifecycle')}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput
              label={t('settings.fields.pendingDays')}
              description={t('settings.hints.pendingDays')}
              min={0}
              max={365}
              allowDecimal={false}
              {...form.getInputProps('pendingDays')}
            />
            <NumberInput
              label={t('settings.fields.expiryMonths')}
              description={t('settings.hints.expiryMonths')}
              placeholder={t('settings.never')}
              min={1}
              max={120}
              allowDecimal={false}
              {...form.getInputProps('expiryMonths')}
            />
          </SimpleGrid>
        </Fieldset>
        <Fieldset legend={t('settings.tiers')}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select
              label={t('settings.fields.tierBasis')}
              description={t('settings.hints.tierBasis', { unit: basisUnit })}
              data={[
                { value: 'SPEND', label: t('settings.tierBasis.SPEND') },
                { value: 'POINTS', label: t('settings.tierBasis.POINTS') },
              ]}
              allowDeselect={false}
              {...form.getInputProps('tierBasis')}
            />
            <Select
              label={t('settings.fields.tierWindow')}
              data={[
                { value: 'LIFETIME', label: t('settings.tierWindow.LIFETIME') },
                { value: 'CALENDAR_YEAR', label: t('settings.tierWindow.CALENDAR_YEAR') },
                { value: 'ROLLING_12_MONTHS', label: t('settings.tierWindow.ROLLING_12_MONTHS') },
              ]}
              allowDeselect={false}
              {...form.getInputProps('tierWindow')}
            />
            <Select
              label={t('settings.fields.downgradePolicy')}
              data={[
                { value: 'never', label: t('settings.downgradePolicy.never') },
                { value: 'requalification', label: t('settings.downgradePolicy.requalification') },
              ]}
              allowDeselect={false}
              {...form.getInputProps('downgradePolicy')}
            />
            <NumberInput
              label={t('settings.fields.downgradeGraceDays')}
              min={0}
              max={365}
              allowDecimal={false}
              {...form.getInputProps('downgradeGraceDays')}
            />
          </SimpleGrid>
        </Fieldset>
        <Fieldset legend={t('settings.bonuses')}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput
              label={t('settings.fields.welcomeBonusPoints')}
              description={t('settings.hints.welcomeBonusPoints')}
              min={0}
              max={1000000}
              allowDecimal={false}
              {...form.getInputProps('welcomeBonusPoints')}
            />
            <NumberInput
              label={t('settings.fields.birthdayBonusPoints')}
              description={t('settings.hints.birthdayBonusPoints')}
              min={0}
              max={1000000}
              allowDecimal={false}
              {...form.getInputProps('birthdayBonusPoints')}
            />
          </SimpleGrid>
        </Fieldset>
        <Fieldset legend={t('settings.pointsPayment')}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput
              label={t('settings.fields.pointsPaymentMaxPercent')}
              description={t('settings.hints.pointsPaymentMaxPercent')}
              min={0}
              max={100}
              decimalScale={2}
              {...form.getInputProps('pointsPaymentMaxPercent')}
            />
            <NumberInput
              label={t('settings.fields.pointsPaymentMinPoints')}
              description={t('settings.hints.pointsPaymentMinPoints')}
              min={0}
              allowDecimal={false}
              {...form.getInputProps('pointsPaymentMinPoints')}
            />
          </SimpleGrid>
        </Fieldset>
        <Group justify="space-between">
          <Text size="sm" c={saved === 'saved' ? 'green' : 'dimmed'} role="status">
            {saved === 'saved' ? (
              <Group gap={4} component="span">
                <IconCheck size={16} /> {t('settings.saved')}
              </Group>
            ) : saved === 'unchanged' ? (
              t('settings.unchanged')
            ) : null}
          </Text>
          <Group>
            <Button variant="default" onClick={() => form.reset()} disabled={fetching}>
              {t('common.reset')}
            </Button>
            <Button type="submit" loading={fetching}>
              {t('common.save')}
            </Button>
          </Group>
        </Group>
      </Stack>
    </form>
  );
}

/** The program's audit: who changed which setting, when, from what to what. */
function ProgramChanges() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [first, setFirst] = useState(10);
  const [{ data, fetching, error }] = useQuery({
    query: ChangesQuery,
    variables: { slug: shop.slug, first },
    requestPolicy: 'cache-and-network',
  });
  const changes = data?.shop?.program?.changes;

  return (
    <Stack gap="sm" component="section" aria-labelledby="program-audit-title">
      <Title order={3} id="program-audit-title">
        {t('settings.audit')}
      </Title>
      <ErrorAlert error={error} />
      {!changes && fetching ? <PageLoader /> : null}
      {changes && changes.edges.length === 0 ? <EmptyPanel title={t('settings.auditEmpty')} /> : null}
      {changes && changes.edges.length > 0 ? (
        <Stack gap="xs" component="ol" style={{ listStyle: 'none', padding: 0, margin: 0 }} data-testid="program-changes">
          {changes.edges.map(({ node }) => (
            <Paper key={node.id} component="li" withBorder p="xs" data-testid="program-change">
              <Group gap="xs" mb={4}>
                <Text size="sm" fw={600}>
                  {formatDateTime(node.changedAt)}
                </Text>
                <Badge variant="light" color="gray" tt="none">
                  {node.changedBy}
                </Badge>
              </Group>
              <Stack gap={2}>
                {node.changes.map((c, i) => (
                  <Text key={i} size="sm" style={{ overflowWrap: 'anywhere' }} data-testid="program-change-line">
                    {changeSentence(c, t)}
                  </Text>
                ))}
              </Stack>
            </Paper>
          ))}
        </Stack>
      ) : null}
      {changes?.pageInfo.hasNextPage ? (
        <Group justify="center">
          <Button variant="light" loading={fetching} onClick={() => setFirst((n) => Math.min(n + 20, 100))} disabled={first >= 100}>
            {t('common.loadMore')}
          </Button>
        </Group>
      ) : null}
      {changes && changes.totalCount != null ? (
        <Text size="xs" c="dimmed">
          {t('settings.auditCount', { count: changes.totalCount, n: formatPoints(changes.totalCount) })}
        </Text>
      ) : null}
      {first >= 100 && changes?.pageInfo.hasNextPage ? <Alert color="gray">{t('settings.auditLimit')}</Alert> : null}
    </Stack>
  );
}

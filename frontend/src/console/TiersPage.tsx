import { useEffect, useMemo, useRef, useState } from 'react';
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  ColorInput,
  ColorSwatch,
  Group,
  List,
  NumberInput,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  TagsInput,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconPlus, IconRestore, IconTrash } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useClient, useMutation, useQuery, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type { TierLadderRungInput, TierPlacementInput } from '../gql/graphql';
import { formatPoints } from '../lib/format';
import {
  EditorOnly,
  EmptyPanel,
  ErrorAlert,
  GeneralErrors,
  mutationErrorMessage,
  notifySuccess,
  PageHeader,
  PageLoader,
  useConsoleShop,
} from './shared';

const TiersQuery = graphql(`
  query ConsoleTiers($slug: String!) {
    shop(slug: $slug) {
      id
      program {
        id
        tierBasis
        downgradePolicy
        tiers {
          id
          name
          position
          threshold
          multiplier
          discountPercent
          benefits
          color
          nameTranslations {
            language
            text
          }
        }
      }
    }
  }
`);

const TierPreviewQuery = graphql(`
  query ConsoleTierPreview($slug: String!, $tiers: [TierPlacementInput!]!) {
    shop(slug: $slug) {
      id
      tierPreview(tiers: $tiers) {
        members
        upgraded
        movedFromDeleted
        belowThreshold
        unchanged
        downgradePolicy
        tiers {
          tierId
          name
          threshold
          membersNow
          membersAfter
        }
      }
    }
  }
`);

const TierLadderSaveMutation = graphql(`
  mutation ConsoleTierLadderSave($shopId: ID!, $tiers: [TierLadderRungInput!]!) {
    tierLadderSave(shopId: $shopId, tiers: $tiers) {
      tiers {
        id
        name
        position
        threshold
        multiplier
        discountPercent
        benefits
        color
        nameTranslations {
          language
          text
        }
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

interface Translation {
  language: string;
  text: string;
}

/** One rung of the ladder being edited; `id` is null until the tier is created. */
export interface TierDraft {
  key: string;
  id: string | null;
  name: string;
  threshold: NumberValue;
  multiplier: NumberValue;
  discountPercent: NumberValue;
  color: string;
  benefits: string[];
  nameFa: string;
  otherTranslations: Translation[];
}

interface ServerTier {
  id: string;
  name: string;
  position: number;
  threshold: string;
  multiplier: string;
  discountPercent: string;
  benefits: string[];
  color: string;
  nameTranslations: Translation[];
}

interface Ladder {
  rows: TierDraft[];
  deleted: { id: string; name: string }[];
}

type PreviewResult = {
  members: number;
  upgraded: number;
  movedFromDeleted: number;
  belowThreshold: number;
  unchanged: number;
  downgradePolicy: string;
  tiers: { tierId?: string | null; name: string; threshold: string; membersNow: number; membersAfter: number }[];
};

function fromServer(tiers: readonly ServerTier[]): Ladder {
  return {
    rows: tiers.map((t) => ({
      key: t.id,
      id: t.id,
      name: t.name,
      threshold: t.threshold,
      multiplier: t.multiplier,
      discountPercent: t.discountPercent,
      color: t.color,
      benefits: [...t.benefits],
      nameFa: t.nameTranslations.find((n) => n.language === 'fa')?.text ?? '',
      otherTranslations: t.nameTranslations.filter((n) => n.language !== 'fa'),
    })),
    deleted: [],
  };
}

const num = (v: NumberValue) => (v === '' ? NaN : Number(v));
const sameNumber = (a: NumberValue, b: NumberValue) => num(a) === num(b);

/**
 * Moves the tier at `index` by `delta` places. Thresholds stay with their places so the
 * ladder keeps rising: the moved tier takes the threshold of the place it lands on.
 */
export function moveTier(rows: TierDraft[], index: number, delta: -1 | 1): TierDraft[] {
  const target = index + delta;
  if (target < 0 || target >= rows.length) return rows;
  const next = [...rows];
  const a = rows[index];
  const b = rows[target];
  next[target] = { ...a, threshold: b.threshold };
  next[index] = { ...b, threshold: a.threshold };
  return next;
}

/** Client-side checks of the ladder rules (docs/api.md "Tiers"); keys `<row key>.<field>`. */
export function validateLadder(rows: TierDraft[], pointsBasis: boolean, t: (k: string) => string): Record<string, string> {
  const errors: Record<string, string> = {};
  const names = new Map<string, number>();
  rows.forEach((r, i) => {
    const name = r.name.trim();
    if (!name) errors[`${r.key}.name`] = t('tiers.errors.nameRequired');
    else if (name.length > 80) errors[`${r.key}.name`] = t('tiers.errors.nameTooLong');
    else if (names.has(name.toLowerCase())) errors[`${r.key}.name`] = t('tiers.errors.nameTaken');
    names.set(name.toLowerCase(), i);

    const th = num(r.threshold);
    if (Number.isNaN(th) || th < 0) errors[`${r.key}.threshold`] = t('tiers.errors.thresholdRequired');
    else if (i === 0 && th !== 0) errors[`${r.key}.threshold`] = t('tiers.errors.firstZero');
    else if (pointsBasis && !Number.isInteger(th)) errors[`${r.key}.threshold`] = t('tiers.errors.wholePoints');
    else if (i > 0 && !(th > num(rows[i - 1].threshold))) errors[`${r.key}.threshold`] = t('tiers.errors.increasing');

    const m = num(r.multiplier);
    if (Number.isNaN(m) || m < 1 || m > 20) errors[`${r.key}.multiplier`] = t('tiers.errors.multiplier');
    const d = num(r.discountPercent);
    if (Number.isNaN(d) || d < 0 || d > 100) errors[`${r.key}.discountPercent`] = t('tiers.errors.discount');
    if (!/^#[0-9a-fA-F]{6}$/.test(r.color)) errors[`${r.key}.color`] = t('tiers.errors.color');
    if (r.benefits.length > 20) errors[`${r.key}.benefits`] = t('tiers.errors.benefits');
  });
  return errors;
}

/** The `TierInput` fields of `row` that differ from `server` (all of them for a new tier). */
export function tierInputChanges(row: TierDraft, server?: ServerTier): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const translations = (): Translation[] => [
    ...row.otherTranslations,
    ...(row.nameFa.trim() ? [{ language: 'fa', text: row.nameFa.trim() }] : []),
  ];
  if (!server || row.name.trim() !== server.name) input.name = row.name.trim();
  if (!server || !sameNumber(row.multiplier, server.multiplier)) input.multiplier = String(row.multiplier);
  if (!server || !sameNumber(row.discountPercent, server.discountPercent)) input.discountPercent = String(row.discountPercent);
  if (!server || row.color.toLowerCase() !== server.color.toLowerCase()) input.color = row.color.toLowerCase();
  if (server ? row.benefits.join('\u0000') !== server.benefits.join('\u0000') : row.benefits.length > 0) {
    input.benefits = row.benefits;
  }
  const serverFa = server?.nameTranslations.find((n) => n.language === 'fa')?.text ?? '';
  if (!server ? row.nameFa.trim() !== '' : row.nameFa.trim() !== serverFa) input.nameTranslations = translations();
  return input;
}

/**
 * The whole ladder as `tierLadderSave` takes it, lowest first: existing tiers by id with their
 * threshold and changed fields, new tiers with all their fields. Tiers left out are deleted.
 */
export function ladderRungs(rows: TierDraft[], serverTiers: readonly ServerTier[]): TierLadderRungInput[] {
  return rows.map((row) => {
    const server = row.id ? serverTiers.find((s) => s.id === row.id) : undefined;
    const changes = tierInputChanges(row, server);
    return row.id ? { id: row.id, ...changes, threshold: String(row.threshold) } : { ...changes, threshold: String(row.threshold) };
  });
}

/** Fields of a rung the editor shows under the row; errors on others are listed above the ladder. */
const ROW_FIELDS = new Set(['name', 'threshold', 'multiplier', 'discountPercent', 'color', 'benefits', 'nameTranslations']);

function placements(rows: TierDraft[]): TierPlacementInput[] {
  return rows.map((r) => (r.id ? { tierId: r.id, threshold: String(r.threshold) } : { name: r.name.trim(), threshold: String(r.threshold) }));
}

let newKeySeq = 0;

/** Tier ladder editor: edit, add, delete and reorder tiers, preview the members that move, save. */
export function TiersPage() {
  return (
    <EditorOnly>
      <TiersEditor />
    </EditorOnly>
  );
}

function TiersEditor() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const client = useClient();
  const [{ data, fetching, error }, refetch] = useQuery({ query: TiersQuery, variables: { slug: shop.slug } });
  const [, saveLadder] = useMutation(TierLadderSaveMutation);

  const program = data?.shop?.program;
  const serverTiers = useMemo(() => (program?.tiers ?? []) as ServerTier[], [program]);
  const pointsBasis = program?.tierBasis === 'POINTS';
  const unit = pointsBasis ? t('common.points') : shop.currency;

  const [draft, setDraft] = useState<Ladder | null>(null);
  const ladder = draft ?? fromServer(serverTiers);
  const dirty = draft !== null;
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [preview, setPreview] = useState<PreviewResult | null>(null);
  const [previewError, setPreviewError] = useState<CombinedError | undefined>();
  const [busy, setBusy] = useState<'preview' | 'save' | null>(null);

  // Focus follows a moved tier so keyboard users can keep pressing the same button.
  const focusAfterMove = useRef<string | null>(null);
  const buttons = useRef(new Map<string, HTMLButtonElement | null>());
  useEffect(() => {
    if (focusAfterMove.current) {
      buttons.current.get(focusAfterMove.current)?.focus();
      focusAfterMove.current = null;
    }
  });

  const change = (updater: (l: Ladder) => Ladder) => {
    setDraft(updater(ladder));
    setPreview(null);
    setPreviewError(undefined);
  };
  const updateRow = (key: string, patch: Partial<TierDraft>) => {
    change((l) => ({ ...l, rows: l.rows.map((r) => (r.key === key ? { ...r, ...patch } : r)) }));
    if (Object.keys(patch).some((f) => rowErrors[`${key}.${f}`])) {
      setRowErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !Object.keys(patch).some((f) => k === `${key}.${f}`))));
    }
  };
  const move = (index: number, delta: -1 | 1) => {
    const row = ladder.rows[index];
    const target = index + delta;
    const atEdge = target === 0 || target === ladder.rows.length - 1;
    focusAfterMove.current = `${row.key}.${atEdge ? (delta < 0 ? 'down' : 'up') : delta < 0 ? 'up' : 'down'}`;
    change((l) => ({ ...l, rows: moveTier(l.rows, index, delta) }));
  };
  const remove = (row: TierDraft) => {
    change((l) => ({
      rows: l.rows.filter((r) => r.key !== row.key),
      deleted: row.id ? [...l.deleted, { id: row.id, name: row.name }] : l.deleted,
    }));
  };
  const restore = (id: string) => {
    const server = serverTiers.find((s) => s.id === id);
    if (!server) return;
    change((l) => {
      const restored = fromServer([server]).rows[0];
      const rows = [...l.rows];
      const at = rows.findIndex((r) => num(r.threshold) > num(restored.threshold));
      rows.splice(at === -1 ? rows.length : at, 0, restored);
      return { rows, deleted: l.deleted.filter((d) => d.id !== id) };
    });
  };
  const add = () => {
    newKeySeq += 1;
    const last = ladder.rows[ladder.rows.length - 1];
    change((l) => ({
      ...l,
      rows: [
        ...l.rows,
        {
          key: `new-${newKeySeq}`,
          id: null,
          name: '',
          threshold: last ? '' : 0,
          multiplier: 1,
          discountPercent: 0,
          color: '#868e96',
          benefits: [],
          nameFa: '',
          otherTranslations: [],
        },
      ],
    }));
  };
  const discard = () => {
    setDraft(null);
    setRowErrors({});
    setGeneral([]);
    setPreview(null);
    setPreviewError(undefined);
  };

  const check = (): boolean => {
    const errors = validateLadder(ladder.rows, pointsBasis, t);
    setRowErrors(errors);
    setGeneral(Object.keys(errors).length ? [t('tiers.errors.fixFields')] : []);
    return Object.keys(errors).length === 0;
  };

  const runPreview = async () => {
    if (!check()) return;
    setBusy('preview');
    setPreviewError(undefined);
    const result = await client
      .query(TierPreviewQuery, { slug: shop.slug, tiers: placements(ladder.rows) }, { requestPolicy: 'network-only' })
      .toPromise();
    setBusy(null);
    if (result.error) {
      setPreview(null);
      setPreviewError(result.error);
      return;
    }
    setPreview(result.data?.shop?.tierPreview ?? null);
  };

  /** Saves the whole ladder in one `tierLadderSave`: all of it or, when refused, nothing. */
  const save = async () => {
    if (!check()) return;
    setBusy('save');
    const rows = ladder.rows;
    const result = await saveLadder({ shopId: shop.id, tiers: ladderRungs(rows, serverTiers) });
    setBusy(null);
    const errors: Record<string, string> = {};
    const messages: string[] = [];
    if (result.error) messages.push(mutationErrorMessage(result.error));
    for (const e of result.data?.tierLadderSave.errors ?? []) {
      const m = /^tiers\[(\d+)\]\.(\w+)$/.exec(e.field ?? '');
      const row = m ? rows[Number(m[1])] : undefined;
      if (row && ROW_FIELDS.has(m![2])) errors[`${row.key}.${m![2]}`] = e.message;
      else messages.push(row ? `${row.name || t('tiers.newTier')}: ${e.message}` : e.message);
    }
    setRowErrors(errors);
    setGeneral(messages);
    if (messages.length > 0 || Object.keys(errors).length > 0) return;
    setDraft(null);
    setPreview(null);
    notifySuccess(t('tiers.saved'));
    refetch({ requestPolicy: 'network-only' });
  };

  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;
  if (!program) return <EmptyPanel title={t('settings.noProgram')} description={t('settings.noProgramHint')} />;

  const moving = preview ? preview.upgraded + preview.movedFromDeleted : 0;

  return (
    <Stack>
      <PageHeader title={t('tiers.title')} hint={t('tiers.hint', { unit })}>
        {dirty ? <Badge color="orange">{t('tiers.unsaved')}</Badge> : null}
      </PageHeader>
      <GeneralErrors messages={general} />
      {ladder.rows.length === 0 ? <EmptyPanel title={t('tiers.empty')} description={t('tiers.emptyHint')} /> : null}
      <Stack gap="sm" component="ol" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label={t('tiers.ladder')}>
        {ladder.rows.map((row, index) => {
          const err = (f: string) => rowErrors[`${row.key}.${f}`];
          const isEntry = row.id !== null && row.id === serverTiers[0]?.id;
          return (
            <Card
              key={row.key}
              component="li"
              withBorder
              padding="sm"
              data-testid="tier-row"
              data-tier-name={row.name}
              aria-label={t('tiers.rowLabel', { position: index + 1, name: row.name || t('tiers.newTier') })}
              style={{ borderInlineStart: `6px solid ${/^#[0-9a-f]{6}$/i.test(row.color) ? row.color : 'transparent'}` }}
            >
              <Stack gap="xs">
                <Group justify="space-between" wrap="nowrap">
                  <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
                    <Badge variant="light" color="gray" aria-hidden>
                      {formatPoints(index + 1)}
                    </Badge>
                    <ColorSwatch color={/^#[0-9a-f]{6}$/i.test(row.color) ? row.color : '#ccc'} size={18} aria-hidden />
                    <Text fw={600} truncate>
                      {row.name || t('tiers.newTier')}
                    </Text>
                    {row.id === null ? <Badge color="teal">{t('tiers.new')}</Badge> : null}
                  </Group>
                  <Group gap={4} wrap="nowrap">
                    <ActionIcon
                      variant="default"
                      aria-label={t('tiers.moveUp', { name: row.name })}
                      disabled={index === 0}
                      onClick={() => move(index, -1)}
                      ref={(el) => {
                        buttons.current.set(`${row.key}.up`, el);
                      }}
                    >
                      <IconArrowUp size={16} />
                    </ActionIcon>
                    <ActionIcon
                      variant="default"
                      aria-label={t('tiers.moveDown', { name: row.name })}
                      disabled={index === ladder.rows.length - 1}
                      onClick={() => move(index, 1)}
                      ref={(el) => {
                        buttons.current.set(`${row.key}.down`, el);
                      }}
                    >
                      <IconArrowDown size={16} />
                    </ActionIcon>
                    <Tooltip label={isEntry ? t('tiers.entryTier') : t('tiers.delete')}>
                      <ActionIcon
                        variant="light"
                        color="red"
                        aria-label={t('tiers.deleteNamed', { name: row.name })}
                        disabled={isEntry}
                        onClick={() => remove(row)}
                      >
                        <IconTrash size={16} />
                      </ActionIcon>
                    </Tooltip>
                  </Group>
                </Group>
                <SimpleGrid cols={{ base: 2, md: 3 }} spacing="sm" verticalSpacing="xs">
                  <TextInput label={t('tiers.name')} value={row.name} error={err('name')} required onChange={(e) => updateRow(row.key, { name: e.currentTarget.value })} />
                  <NumberInput
                    label={t('tiers.threshold')}
                    rightSection={
                      <Text size="xs" c="dimmed" aria-hidden>
                        {unit}
                      </Text>
                    }
                    rightSectionWidth={unit.length * 8 + 16}
                    hideControls
                    value={row.threshold}
                    error={err('threshold')}
                    min={0}
                    decimalScale={pointsBasis ? 0 : 2}
                    allowNegative={false}
                    onChange={(v) => updateRow(row.key, { threshold: v })}
                  />
                  <NumberInput
                    label={t('tiers.multiplier')}
                    prefix="× "
                    value={row.multiplier}
                    error={err('multiplier')}
                    min={1}
                    max={20}
                    step={0.1}
                    decimalScale={2}
                    onChange={(v) => updateRow(row.key, { multiplier: v })}
                  />
                  <NumberInput
                    label={t('tiers.discount')}
                    suffix=" %"
                    value={row.discountPercent}
                    error={err('discountPercent')}
                    min={0}
                    max={100}
                    decimalScale={2}
                    onChange={(v) => updateRow(row.key, { discountPercent: v })}
                  />
                  <ColorInput
                    label={t('tiers.color')}
                    dir="ltr"
                    value={row.color}
                    error={err('color')}
                    format="hex"
                    swatches={['#cd7f32', '#c0c0c0', '#ffd700', '#e5e4e2', '#1c7ed6', '#2f9e44', '#ae3ec9', '#f76707']}
                    onChange={(v) => updateRow(row.key, { color: v })}
                  />
                  <TextInput
                    label={t('tiers.nameFa')}
                    dir="rtl"
                    lang="fa"
                    value={row.nameFa}
                    error={err('nameTranslations')}
                    onChange={(e) => updateRow(row.key, { nameFa: e.currentTarget.value })}
                  />
                </SimpleGrid>
                <TagsInput
                  label={t('tiers.benefits')}
                  description={t('tiers.benefitsHint')}
                  value={row.benefits}
                  error={err('benefits')}
                  maxTags={20}
                  clearable
                  onChange={(v) => updateRow(row.key, { benefits: v })}
                />
              </Stack>
            </Card>
          );
        })}
      </Stack>
      {ladder.deleted.length > 0 ? (
        <Alert color="red" variant="light" title={t('tiers.toDelete')}>
          <Group gap="xs">
            {ladder.deleted.map((d) => (
              <Button key={d.id} size="xs" variant="default" leftSection={<IconRestore size={14} />} onClick={() => restore(d.id)}>
                {t('tiers.restore', { name: d.name })}
              </Button>
            ))}
          </Group>
        </Alert>
      ) : null}
      <Group justify="space-between">
        <Button variant="light" leftSection={<IconPlus size={16} />} onClick={add}>
          {t('tiers.add')}
        </Button>
        <Group>
          {dirty ? (
            <Button variant="subtle" onClick={discard} disabled={busy !== null}>
              {t('common.discard')}
            </Button>
          ) : null}
          <Button variant="default" onClick={runPreview} loading={busy === 'preview'} disabled={busy === 'save'}>
            {t('tiers.preview')}
          </Button>
          <Button onClick={save} loading={busy === 'save'} disabled={!dirty || busy === 'preview'}>
            {t('common.save')}
          </Button>
        </Group>
      </Group>
      <ErrorAlert error={previewError} title={t('tiers.previewFailed')} />
      {preview ? <PreviewPanel preview={preview} moving={moving} /> : null}
    </Stack>
  );
}

function PreviewPanel({ preview, moving }: { preview: PreviewResult; moving: number }) {
  const { t } = useTranslation('console');
  return (
    <Paper withBorder p="md" data-testid="tier-preview" data-moving={moving} role="status" aria-live="polite">
      <Stack gap="sm">
        <Title order={3}>{t('tiers.previewMoving', { count: moving, n: formatPoints(moving) })}</Title>
        <List size="sm" spacing={2}>
          <List.Item>{t('tiers.previewUpgraded', { n: formatPoints(preview.upgraded) })}</List.Item>
          <List.Item>{t('tiers.previewFromDeleted', { n: formatPoints(preview.movedFromDeleted) })}</List.Item>
          <List.Item>
            {t('tiers.previewBelow', {
              n: formatPoints(preview.belowThreshold),
              policy: t(`settings.downgradePolicy.${preview.downgradePolicy}`, { defaultValue: preview.downgradePolicy }),
            })}
          </List.Item>
          <List.Item>{t('tiers.previewUnchanged', { n: formatPoints(preview.unchanged), total: formatPoints(preview.members) })}</List.Item>
        </List>
        <Table.ScrollContainer minWidth={360}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('tiers.name')}</Table.Th>
                <Table.Th>{t('tiers.membersNow')}</Table.Th>
                <Table.Th>{t('tiers.membersAfter')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {preview.tiers.map((row, i) => (
                <Table.Tr key={row.tierId ?? `new-${i}`}>
                  <Table.Td>{row.name}</Table.Td>
                  <Table.Td>{formatPoints(row.membersNow)}</Table.Td>
                  <Table.Td fw={row.membersAfter !== row.membersNow ? 700 : undefined}>{formatPoints(row.membersAfter)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Stack>
    </Paper>
  );
}

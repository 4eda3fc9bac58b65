import { useState } from 'react';
import {
  Badge,
  Button,
  Card,
  Center,
  Group,
  Image,
  Modal,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconBan, IconDownload, IconPlus, IconPrinter, IconQrcode, IconStack2 } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useClient, useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { CouponBatchGenerateInput, CouponCreateInput } from '../gql/graphql';
import { formatDate, formatDateTime, formatPoints } from '../lib/format';
import {
  ConfirmDialog,
  EditorOnly,
  EmptyPanel,
  ErrorAlert,
  GeneralErrors,
  mutationErrorMessage,
  notifySuccess,
  PageHeader,
  PageLoader,
  ShopDateTimePicker,
  splitPayloadErrors,
  toInt,
  useConsoleShop,
  usePayloadSubmit,
} from './shared';
import { localToIso } from './time';

export const ConsoleCouponFieldsFragment = graphql(`
  fragment ConsoleCouponFields on Coupon {
    id
    code
    customerId
    maxUses
    maxUsesPerMember
    uses
    validFrom
    validUntil
    channel
    batchId
    voided
    createdAt
  }
`);

const CouponPromotionsQuery = graphql(`
  query ConsoleCouponPromotions($slug: String!) {
    shop(slug: $slug) {
      id
      promotions(includeArchived: true) {
        id
        name
        kind
        active
        requiresCoupon
      }
    }
  }
`);

const CouponsQuery = graphql(`
  query ConsoleCoupons($slug: String!, $promotionId: ID, $code: String, $first: Int, $after: String) {
    shop(slug: $slug) {
      id
      coupons(promotionId: $promotionId, code: $code, first: $first, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          cursor
          node {
            ...ConsoleCouponFields
          }
        }
      }
    }
  }
`);

const CouponQrQuery = graphql(`
  query ConsoleCouponQr($slug: String!, $promotionId: ID, $code: String!) {
    shop(slug: $slug) {
      id
      coupons(promotionId: $promotionId, code: $code, first: 5) {
        edges {
          node {
            id
            code
            qrSvg
          }
        }
      }
    }
  }
`);

const CouponBatchesQuery = graphql(`
  query ConsoleCouponBatches($slug: String!, $promotionId: ID) {
    shop(slug: $slug) {
      id
      couponBatches(promotionId: $promotionId) {
        id
        name
        prefix
        length
        alphabet
        count
        channel
        createdAt
      }
    }
  }
`);

const CouponBatchCsvQuery = graphql(`
  query ConsoleCouponBatchCsv($slug: String!, $promotionId: ID) {
    shop(slug: $slug) {
      id
      couponBatches(promotionId: $promotionId) {
        id
        csv
      }
    }
  }
`);

const CouponCreateMutation = graphql(`
  mutation ConsoleCouponCreate($input: CouponCreateInput!) {
    couponCreate(input: $input) {
      coupon {
        ...ConsoleCouponFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const CouponBatchGenerateMutation = graphql(`
  mutation ConsoleCouponBatchGenerate($input: CouponBatchGenerateInput!) {
    couponBatchGenerate(input: $input) {
      batch {
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

const CouponVoidMutation = graphql(`
  mutation ConsoleCouponVoid($couponId: ID!) {
    couponVoid(couponId: $couponId) {
      coupon {
        id
        voided
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

/** Coupons per page of the list. */
export const COUPON_PAGE_SIZE = 20;
/** The API's default code alphabet (no 0/O, 1/I/L, U). */
export const DEFAULT_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

type NumberValue = number | string;

type CouponRow = {
  id: string;
  code: string;
  customerId?: string | null;
  maxUses?: number | null;
  maxUsesPerMember?: number | null;
  uses: number;
  validFrom?: string | null;
  validUntil?: string | null;
  channel: string;
  batchId?: string | null;
  voided: boolean;
  createdAt: string;
};

const SVG_NAMESPACE = 'http://www.w3.org/2000/svg';

/**
 * SVG markup as an image URL: shown through <img>, its scripts (if any) never run. Markup made
 * for inlining in HTML may lack the SVG namespace, without which a browser does not draw it as
 * a standalone image: it is added to the root element then.
 */
export function svgDataUrl(svg: string): string {
  const markup = svg.trim();
  const rootTag = /^<svg\b[^>]*>/i.exec(markup)?.[0] ?? '';
  const withNamespace = rootTag && !/\sxmlns\s*=/.test(rootTag) ? markup.replace(/^<svg\b/i, `<svg xmlns="${SVG_NAMESPACE}"`) : markup;
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(withNamespace)}`;
}

/** Saves `text` as a file named `filename`, built in the browser (no server round trip). */
export function downloadText(filename: string, text: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A file name from a batch name: letters, digits and dashes only. */
export function batchFileName(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();
  return `${base || 'coupons'}.csv`;
}

/** A coupon's validity window as one line ("always" when open on both ends). */
function validity(c: Pick<CouponRow, 'validFrom' | 'validUntil'>, t: (key: string, o?: Record<string, unknown>) => string): string {
  if (!c.validFrom && !c.validUntil) return t('coupons.always');
  if (c.validFrom && c.validUntil) return `${formatDate(c.validFrom)} – ${formatDate(c.validUntil)}`;
  if (c.validFrom) return t('coupons.fromLine', { date: formatDate(c.validFrom) });
  return t('coupons.untilLine', { date: formatDate(c.validUntil!) });
}

/** A promotion's coupons (paged), single coupons and generated batches with their CSV, QR codes, voiding. */
export function CouponsPage() {
  return (
    <EditorOnly>
      <CouponsEditor />
    </EditorOnly>
  );
}

function CouponsEditor() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }] = useQuery({ query: CouponPromotionsQuery, variables: { slug: shop.slug } });
  const [picked, setPicked] = useState<string | null>(null);
  const promotions = data?.shop?.promotions ?? [];
  const promotionId = picked ?? promotions.find((p) => p.active)?.id ?? promotions[0]?.id ?? null;
  const promotion = promotions.find((p) => p.id === promotionId) ?? null;
  // Bumped after a create, a batch or a void: the lists below fetch again.
  const [version, setVersion] = useState(0);
  const [creating, setCreating] = useState<'coupon' | 'batch' | null>(null);

  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;

  return (
    <Stack>
      <PageHeader title={t('coupons.title')} hint={t('coupons.hint')}>
        <Group gap="xs">
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating('coupon')} disabled={!promotion}>
            {t('coupons.add')}
          </Button>
          <Button variant="light" leftSection={<IconStack2 size={16} />} onClick={() => setCreating('batch')} disabled={!promotion}>
            {t('coupons.generate')}
          </Button>
        </Group>
      </PageHeader>
      {promotions.length === 0 ? (
        <EmptyPanel title={t('coupons.noPromotions')} description={t('coupons.noPromotionsHint')} />
      ) : (
        <Select
          label={t('coupons.promotion')}
          data={promotions.map((p) => ({
            value: p.id,
            label: p.active ? p.name : `${p.name} (${t('coupons.archivedPromotion')})`,
          }))}
          value={promotionId}
          onChange={(value) => value && setPicked(value)}
          allowDeselect={false}
          searchable
          maw={420}
        />
      )}
      {promotion ? (
        <>
          <CouponList key={`${promotion.id}-${version}`} promotionId={promotion.id} onChanged={() => setVersion((v) => v + 1)} />
          <BatchList key={`batches-${promotion.id}-${version}`} promotionId={promotion.id} />
          <Modal
            opened={creating !== null}
            onClose={() => setCreating(null)}
            title={creating === 'batch' ? t('coupons.generateTitle', { name: promotion.name }) : t('coupons.addTitle', { name: promotion.name })}
            size="lg"
          >
            {creating === 'coupon' ? (
              <CouponForm
                promotionId={promotion.id}
                onDone={(code) => {
                  notifySuccess(t('coupons.created', { code }));
                  setCreating(null);
                  setVersion((v) => v + 1);
                }}
              />
            ) : null}
            {creating === 'batch' ? (
              <BatchForm
                promotionId={promotion.id}
                onDone={(name, count) => {
                  notifySuccess(t('coupons.generated', { name, n: formatPoints(count) }));
                  setCreating(null);
                  setVersion((v) => v + 1);
                }}
              />
            ) : null}
          </Modal>
        </>
      ) : null}
    </Stack>
  );
}

function CouponList({ promotionId, onChanged }: { promotionId: string; onChanged: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [search, setSearch] = useState('');
  const [code, setCode] = useState('');
  // The cursors of the pages before the current one, and the current page's `after`.
  const [previous, setPrevious] = useState<(string | null)[]>([]);
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, fetching, error }] = useQuery({
    query: CouponsQuery,
    variables: { slug: shop.slug, promotionId, code: code || null, first: COUPON_PAGE_SIZE, after },
    requestPolicy: 'cache-and-network',
  });
  const [qrFor, setQrFor] = useState<CouponRow | null>(null);
  const [voiding, setVoiding] = useState<CouponRow | null>(null);
  const [voidState, runVoid] = useMutation(CouponVoidMutation);
  const [voidErrors, setVoidErrors] = useState<string[]>([]);
  const connection = data?.shop?.coupons;
  const coupons = (connection?.edges ?? []).map((e) => e.node as CouponRow);

  const doVoid = async () => {
    if (!voiding) return;
    const r = await runVoid({ couponId: voiding.id });
    const errs = r.error ? [mutationErrorMessage(r.error)] : splitPayloadErrors(r.data?.couponVoid.errors).general;
    setVoidErrors(errs);
    if (errs.length === 0) {
      notifySuccess(t('coupons.voided', { code: voiding.code }));
      setVoiding(null);
      onChanged();
    }
  };

  const page = previous.length + 1;
  return (
    <Stack gap="sm" component="section" aria-labelledby="coupons-list-title">
      <Group justify="space-between" align="flex-end">
        <Title order={3} id="coupons-list-title">
          {t('coupons.listTitle')}
          {connection?.totalCount != null ? (
            <Text span c="dimmed" fw={400} ml="xs" data-testid="coupons-total">
              ({formatPoints(connection.totalCount)})
            </Text>
          ) : null}
        </Title>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            setPrevious([]);
            setAfter(null);
            setCode(search.trim());
          }}
        >
          <TextInput
            aria-label={t('coupons.search')}
            placeholder={t('coupons.search')}
            value={search}
            onChange={(event) => setSearch(event.currentTarget.value)}
            size="xs"
          />
        </form>
      </Group>
      <ErrorAlert error={error} />
      <GeneralErrors messages={voidErrors} />
      {!connection && fetching ? <PageLoader /> : null}
      {connection && coupons.length === 0 ? <EmptyPanel title={t('coupons.empty')} /> : null}
      {coupons.length > 0 ? (
        <Table.ScrollContainer minWidth={760}>
          <Table striped verticalSpacing="xs" data-testid="coupons-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('coupons.columns.code')}</Table.Th>
                <Table.Th>{t('coupons.columns.uses')}</Table.Th>
                <Table.Th>{t('coupons.columns.validity')}</Table.Th>
                <Table.Th>{t('coupons.columns.customer')}</Table.Th>
                <Table.Th>{t('coupons.columns.channel')}</Table.Th>
                <Table.Th>{t('coupons.columns.status')}</Table.Th>
                <Table.Th>
                  <VisuallyHidden>{t('coupons.columns.actions')}</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {coupons.map((c) => (
                <Table.Tr key={c.id} data-testid="console-coupon" data-code={c.code} data-voided={c.voided}>
                  <Table.Td>
                    <Text ff="monospace" fw={600} size="sm" td={c.voided ? 'line-through' : undefined}>
                      {c.code}
                    </Text>
                  </Table.Td>
                  <Table.Td data-testid="coupon-uses">
                    {formatPoints(c.uses)} / {c.maxUses != null ? formatPoints(c.maxUses) : '∞'}
                    {c.maxUsesPerMember != null ? (
                      <Text size="xs" c="dimmed">
                        {t('coupons.perMemberLine', { n: formatPoints(c.maxUsesPerMember) })}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>{validity(c, t)}</Table.Td>
                  <Table.Td>{c.customerId || '—'}</Table.Td>
                  <Table.Td>{c.channel || '—'}</Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={c.voided ? 'red' : 'teal'}>
                      {c.voided ? t('coupons.status.voided') : t('coupons.status.valid')}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <Button
                        size="xs"
                        variant="light"
                        leftSection={<IconQrcode size={14} />}
                        onClick={() => setQrFor(c)}
                        aria-label={t('coupons.qrNamed', { code: c.code })}
                      >
                        {t('coupons.qr')}
                      </Button>
                      {!c.voided ? (
                        <Button
                          size="xs"
                          variant="subtle"
                          color="red"
                          leftSection={<IconBan size={14} />}
                          onClick={() => {
                            setVoidErrors([]);
                            setVoiding(c);
                          }}
                          aria-label={t('coupons.voidNamed', { code: c.code })}
                        >
                          {t('coupons.void')}
                        </Button>
                      ) : null}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : null}
      {connection && (previous.length > 0 || connection.pageInfo.hasNextPage) ? (
        <Group justify="center" gap="xs">
          <Button
            variant="default"
            size="xs"
            disabled={previous.length === 0}
            onClick={() => {
              setAfter(previous[previous.length - 1] ?? null);
              setPrevious(previous.slice(0, -1));
            }}
          >
            {t('common.previous')}
          </Button>
          <Text size="sm" c="dimmed">
            {t('coupons.page', { n: formatPoints(page) })}
          </Text>
          <Button
            variant="default"
            size="xs"
            disabled={!connection.pageInfo.hasNextPage || fetching}
            onClick={() => {
              setPrevious([...previous, after]);
              setAfter(connection.pageInfo.endCursor ?? null);
            }}
          >
            {t('common.next')}
          </Button>
        </Group>
      ) : null}
      <Modal opened={qrFor !== null} onClose={() => setQrFor(null)} title={t('coupons.qrTitle', { code: qrFor?.code ?? '' })} centered>
        {qrFor ? <CouponQr promotionId={promotionId} coupon={qrFor} /> : null}
      </Modal>
      <ConfirmDialog
        opened={voiding !== null}
        title={t('coupons.voidTitle')}
        message={t('coupons.voidConfirm', { code: voiding?.code ?? '' })}
        confirmLabel={t('coupons.void')}
        loading={voidState.fetching}
        onConfirm={doVoid}
        onClose={() => setVoiding(null)}
      />
    </Stack>
  );
}

/** Opens the QR code alone in a new window and prints it (the page itself stays as it is). */
function printQr(src: string, code: string) {
  const win = window.open('', '_blank', 'width=480,height=600');
  if (!win) {
    window.print();
    return;
  }
  win.document.title = code;
  const figure = win.document.createElement('figure');
  figure.style.cssText = 'margin:0;text-align:center;font-family:monospace;font-size:20px';
  const img = win.document.createElement('img');
  img.alt = code;
  img.style.cssText = 'width:80mm;height:80mm';
  const caption = win.document.createElement('figcaption');
  caption.textContent = code;
  figure.append(img, caption);
  win.document.body.append(figure);
  img.onload = () => {
    win.focus();
    win.print();
  };
  img.src = src;
}

function CouponQr({ promotionId, coupon }: { promotionId: string; coupon: CouponRow }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }] = useQuery({
    query: CouponQrQuery,
    variables: { slug: shop.slug, promotionId, code: coupon.code },
  });
  const svg = data?.shop?.coupons.edges.find((e) => e.node.id === coupon.id)?.node.qrSvg;
  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;
  if (!svg) return <EmptyPanel title={t('coupons.qrMissing')} />;
  const src = svgDataUrl(svg);
  return (
    <Stack align="center">
      <Center bg="white" p="md" style={{ borderRadius: 8 }}>
        <Image src={src} alt={t('coupons.qrAlt', { code: coupon.code })} w={240} h={240} fit="contain" data-testid="coupon-qr" />
      </Center>
      <Text ff="monospace" fw={700} fz="xl">
        {coupon.code}
      </Text>
      <Button leftSection={<IconPrinter size={16} />} onClick={() => printQr(src, coupon.code)}>
        {t('coupons.print')}
      </Button>
    </Stack>
  );
}

function BatchList({ promotionId }: { promotionId: string }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const client = useClient();
  const [{ data, error }] = useQuery({
    query: CouponBatchesQuery,
    variables: { slug: shop.slug, promotionId },
    requestPolicy: 'cache-and-network',
  });
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportErrors, setExportErrors] = useState<string[]>([]);
  const batches = data?.shop?.couponBatches ?? [];

  const exportCsv = async (batch: { id: string; name: string }) => {
    setExporting(batch.id);
    setExportErrors([]);
    const result = await client
      .query(CouponBatchCsvQuery, { slug: shop.slug, promotionId }, { requestPolicy: 'network-only' })
      .toPromise();
    setExporting(null);
    const csv = result.data?.shop?.couponBatches.find((b) => b.id === batch.id)?.csv;
    if (result.error || csv == null) {
      setExportErrors([result.error ? mutationErrorMessage(result.error) : t('coupons.exportMissing')]);
      return;
    }
    downloadText(batchFileName(batch.name), csv);
  };

  return (
    <Stack gap="sm" component="section" aria-labelledby="coupon-batches-title">
      <Title order={3} id="coupon-batches-title">
        {t('coupons.batchesTitle')}
      </Title>
      <ErrorAlert error={error} />
      <GeneralErrors messages={exportErrors} />
      {data && batches.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('coupons.noBatches')}
        </Text>
      ) : null}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {batches.map((b) => (
          <Card key={b.id} withBorder data-testid="coupon-batch" data-batch-name={b.name}>
            <Stack gap={4}>
              <Text fw={600}>{b.name}</Text>
              <Text size="sm">
                {t('coupons.batchLine', { n: formatPoints(b.count), prefix: b.prefix || '—', length: formatPoints(b.length) })}
              </Text>
              <Text size="xs" c="dimmed">
                {[b.channel ? t('coupons.channelLine', { channel: b.channel }) : null, formatDateTime(b.createdAt)]
                  .filter(Boolean)
                  .join(' · ')}
              </Text>
              <Button
                mt="xs"
                size="xs"
                variant="light"
                leftSection={<IconDownload size={14} />}
                loading={exporting === b.id}
                onClick={() => void exportCsv(b)}
                aria-label={t('coupons.exportNamed', { name: b.name })}
                style={{ alignSelf: 'flex-start' }}
              >
                {t('coupons.export')}
              </Button>
            </Stack>
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  );
}

interface CouponValues {
  code: string;
  customerId: string;
  maxUses: NumberValue;
  maxUsesPerMember: NumberValue;
  validFrom: string | null;
  validUntil: string | null;
  channel: string;
}

const COUPON_FIELDS = ['code', 'customerId', 'maxUses', 'maxUsesPerMember', 'validFrom', 'validUntil', 'channel'];

/** The `CouponCreateInput` of the form (an empty code lets the server generate one; empty max uses: unlimited). */
export function couponInput(promotionId: string, v: CouponValues, timeZone: string): CouponCreateInput {
  return {
    promotionId,
    code: v.code.trim() || null,
    customerId: v.customerId.trim() || null,
    maxUses: toInt(v.maxUses),
    maxUsesPerMember: toInt(v.maxUsesPerMember),
    validFrom: localToIso(v.validFrom, timeZone),
    validUntil: localToIso(v.validUntil, timeZone),
    channel: v.channel.trim(),
  };
}

function CouponForm({ promotionId, onDone }: { promotionId: string; onDone: (code: string) => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [state, create] = useMutation(CouponCreateMutation);
  const form = useForm<CouponValues>({
    initialValues: { code: '', customerId: '', maxUses: 1, maxUsesPerMember: '', validFrom: null, validUntil: null, channel: '' },
  });
  const { general, send } = usePayloadSubmit(form, COUPON_FIELDS);
  const submit = form.onSubmit(async (values) => {
    const answer = await send(
      () => create({ input: couponInput(promotionId, values, shop.timezone) }),
      (data) => data.couponCreate,
    );
    if (!answer) return;
    onDone(answer.payload?.coupon?.code ?? values.code);
  });
  return (
    <form onSubmit={submit} noValidate aria-label={t('coupons.add')}>
      <Stack>
        <GeneralErrors messages={general} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label={t('coupons.fields.code')}
            description={t('coupons.hints.code')}
            data-autofocus
            autoCapitalize="characters"
            spellCheck={false}
            {...form.getInputProps('code')}
          />
          <TextInput label={t('coupons.fields.customerId')} description={t('coupons.hints.customerId')} {...form.getInputProps('customerId')} />
          <NumberInput
            label={t('coupons.fields.maxUses')}
            placeholder={t('coupons.unlimited')}
            min={1}
            allowDecimal={false}
            {...form.getInputProps('maxUses')}
          />
          <NumberInput
            label={t('coupons.fields.maxUsesPerMember')}
            placeholder={t('coupons.unlimited')}
            min={1}
            allowDecimal={false}
            {...form.getInputProps('maxUsesPerMember')}
          />
          <ShopDateTimePicker label={t('coupons.fields.validFrom')} placeholder={t('coupons.always')} {...form.getInputProps('validFrom')} />
          <ShopDateTimePicker label={t('coupons.fields.validUntil')} placeholder={t('coupons.always')} {...form.getInputProps('validUntil')} />
          <TextInput label={t('coupons.fields.channel')} description={t('coupons.hints.channel')} {...form.getInputProps('channel')} />
        </SimpleGrid>
        <Group justify="flex-end">
          <Button type="submit" loading={state.fetching}>
            {t('coupons.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

interface BatchValues {
  name: string;
  count: NumberValue;
  prefix: string;
  length: NumberValue;
  alphabet: string;
  maxUses: NumberValue;
  maxUsesPerMember: NumberValue;
  validFrom: string | null;
  validUntil: string | null;
  channel: string;
}

const BATCH_FIELDS = ['name', 'count', 'prefix', 'length', 'alphabet', 'maxUses', 'maxUsesPerMember', 'validFrom', 'validUntil', 'channel'];

/** The `CouponBatchGenerateInput` of the form. */
export function batchInput(promotionId: string, v: BatchValues, timeZone: string): CouponBatchGenerateInput {
  return {
    promotionId,
    name: v.name.trim(),
    count: toInt(v.count) ?? 0,
    prefix: v.prefix.trim(),
    length: toInt(v.length) ?? 8,
    alphabet: v.alphabet.trim() || DEFAULT_ALPHABET,
    maxUses: toInt(v.maxUses),
    maxUsesPerMember: toInt(v.maxUsesPerMember),
    validFrom: localToIso(v.validFrom, timeZone),
    validUntil: localToIso(v.validUntil, timeZone),
    channel: v.channel.trim(),
  };
}

function BatchForm({ promotionId, onDone }: { promotionId: string; onDone: (name: string, count: number) => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [state, generate] = useMutation(CouponBatchGenerateMutation);
  const form = useForm<BatchValues>({
    initialValues: {
      name: '',
      count: 100,
      prefix: '',
      length: 8,
      alphabet: DEFAULT_ALPHABET,
      maxUses: 1,
      maxUsesPerMember: '',
      validFrom: null,
      validUntil: null,
      channel: '',
    },
    validate: {
      name: (v) => (v.trim() ? null : t('common.required')),
      count: (v) => ((toInt(v) ?? 0) > 0 ? null : t('coupons.errors.count')),
      length: (v) => ((toInt(v) ?? 0) > 0 ? null : t('coupons.errors.length')),
    },
  });
  const { general, send } = usePayloadSubmit(form, BATCH_FIELDS);
  const submit = form.onSubmit(async (values) => {
    const input = batchInput(promotionId, values, shop.timezone);
    const answer = await send(() => generate({ input }), (data) => data.couponBatchGenerate);
    if (!answer) return;
    onDone(answer.payload?.batch?.name ?? input.name, answer.payload?.batch?.count ?? input.count);
  });
  return (
    <form onSubmit={submit} noValidate aria-label={t('coupons.generate')}>
      <Stack>
        <GeneralErrors messages={general} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t('coupons.fields.batchName')} required data-autofocus {...form.getInputProps('name')} />
          <NumberInput label={t('coupons.fields.count')} required min={1} allowDecimal={false} {...form.getInputProps('count')} />
          <TextInput
            label={t('coupons.fields.prefix')}
            description={t('coupons.hints.prefix')}
            autoCapitalize="characters"
            {...form.getInputProps('prefix')}
          />
          <NumberInput label={t('coupons.fields.length')} min={4} max={32} allowDecimal={false} {...form.getInputProps('length')} />
          <TextInput label={t('coupons.fields.alphabet')} description={t('coupons.hints.alphabet')} ff="monospace" {...form.getInputProps('alphabet')} />
          <TextInput label={t('coupons.fields.channel')} description={t('coupons.hints.channel')} {...form.getInputProps('channel')} />
          <NumberInput
            label={t('coupons.fields.maxUses')}
            placeholder={t('coupons.unlimited')}
            min={1}
            allowDecimal={false}
            {...form.getInputProps('maxUses')}
          />
          <NumberInput
            label={t('coupons.fields.maxUsesPerMember')}
            placeholder={t('coupons.unlimited')}
            min={1}
            allowDecimal={false}
            {...form.getInputProps('maxUsesPerMember')}
          />
          <ShopDateTimePicker label={t('coupons.fields.validFrom')} placeholder={t('coupons.always')} {...form.getInputProps('validFrom')} />
          <ShopDateTimePicker label={t('coupons.fields.validUntil')} placeholder={t('coupons.always')} {...form.getInputProps('validUntil')} />
        </SimpleGrid>
        <Group justify="flex-end">
          <Button type="submit" loading={state.fetching}>
            {t('coupons.generateSubmit')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

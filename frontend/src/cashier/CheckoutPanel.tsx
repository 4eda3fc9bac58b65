import { useState } from 'react';
import {
  ActionIcon,
  Alert,
  Autocomplete,
  Badge,
  Button,
  Group,
  NumberInput,
  Paper,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  TagsInput,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconCircleCheck, IconPlus, IconTrash } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { CheckoutCommitFieldsFragment, CheckoutQuoteFieldsFragment } from '../gql/graphql';
import { combinedErrorMessage, graphQLErrorCode } from '../lib/errors';
import { formatDateTime, formatMoney, formatPoints } from '../lib/format';
import { useIdempotencyKey } from '../lib/idempotency';
import {
  checkoutErrorKey,
  emptyForm,
  emptyLine,
  quoteInput,
  refusalOf,
  type BasketLine,
  type CheckoutForm,
  type CommitRefusal,
  type FormErrors,
} from './checkoutState';

graphql(`
  fragment CheckoutDiscountFields on LineDiscount {
    source
    promotionId
    couponCode
    label
    amount
  }
`);

graphql(`
  fragment CheckoutQuoteFields on CheckoutQuote {
    id
    token
    currency
    expiresAt
    customerId
    lines {
      lineNo
      productId
      categorySlug
      quantity
      unitPrice
      priceBefore
      discounts {
        ...CheckoutDiscountFields
      }
      discountTotal
      priceAfter
      pointsAmount
      amountDue
    }
    discounts {
      ...CheckoutDiscountFields
    }
    subtotal
    discountTotal
    pointsSpent
    pointsAmount
    totalDue
    pointsEarned
    notApplied {
      source
      promotionId
      couponCode
      reason
      message
    }
  }
`);

graphql(`
  fragment CheckoutCommitFields on CheckoutCommit {
    id
    orderId
    pointsSpent
    pointsAmount
    discountTotal
    totalDue
    pointsReturned
    committedAt
    quote {
      id
      currency
      pointsEarned
    }
  }
`);

const CheckoutQuoteDocument = graphql(`
  mutation CheckoutQuote($input: CheckoutQuoteInput!) {
    checkoutQuote(input: $input) {
      quote {
        ...CheckoutQuoteFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const CheckoutCommitDocument = graphql(`
  mutation CheckoutCommit($input: CheckoutCommitInput!) {
    checkoutCommit(input: $input) {
      commit {
        ...CheckoutCommitFields
      }
      replayed
      errors {
        field
        code
        message
      }
    }
  }
`);

/** Payment types offered as suggestions; any other string the shop uses may be typed. */
const PAYMENT_TYPES = ['card', 'cash', 'gift_card', 'mobile'];

/** A refusal shown under the quote or the commit: its code, the translated message, and the server's words. */
interface Problem {
  code: string;
  message: string;
  /** The server's own explanation (with the field at fault) when the translation replaced it. */
  detail?: string;
}

type Quote = CheckoutQuoteFieldsFragment;

/**
 * The till's checkout: the member (or a guest), the basket, coupons and points; Quote shows
 * every line's discounts and the totals, Commit books the quote once (one idempotency key per
 * quote, kept while the same commit is retried).
 */
export function CheckoutPanel({ shopId }: { shopId: string }) {
  const { t } = useTranslation('cashier');
  const [form, setForm] = useState<CheckoutForm>(emptyForm);
  const [errors, setErrors] = useState<FormErrors>({});
  const [quote, setQuote] = useState<Quote | null>(null);
  const [quoteProblems, setQuoteProblems] = useState<Problem[]>([]);
  const [orderId, setOrderId] = useState('');
  const [commit, setCommit] = useState<{ commit: CheckoutCommitFieldsFragment; replayed: boolean } | null>(null);
  const [commitProblem, setCommitProblem] = useState<(Problem & { refusal: CommitRefusal }) | null>(null);
  const [quoteState, runQuote] = useMutation(CheckoutQuoteDocument);
  const [commitState, runCommit] = useMutation(CheckoutCommitDocument);
  const idempotency = useIdempotencyKey();

  const problemOf = (code: string, message: string, field?: string | null): Problem => {
    const detail = field ? `${field}: ${message}` : message;
    const translated = t(checkoutErrorKey(code), { defaultValue: detail || code });
    return { code, message: translated, detail: translated !== detail ? detail : undefined };
  };

  /** Any change to the basket makes the quote on screen a quote of something else: it goes. */
  const update = (patch: Partial<CheckoutForm>) => {
    setForm((previous) => ({ ...previous, ...patch }));
    setErrors({});
    setQuote(null);
    setQuoteProblems([]);
    setCommit(null);
    setCommitProblem(null);
  };
  const updateLine = (index: number, patch: Partial<BasketLine>) =>
    update({ lines: form.lines.map((line, i) => (i === index ? { ...line, ...patch } : line)) });

  const requestQuote = async () => {
    const { input, errors: found } = quoteInput(shopId, form);
    setErrors(found);
    if (!input) return;
    setQuoteProblems([]);
    setCommit(null);
    setCommitProblem(null);
    const result = await runQuote({ input });
    if (result.error) {
      setQuote(null);
      setQuoteProblems([problemOf(graphQLErrorCode(result.error) ?? 'error', combinedErrorMessage(result.error))]);
      return;
    }
    const payload = result.data?.checkoutQuote;
    if (payload?.errors.length) {
      setQuote(null);
      setQuoteProblems(payload.errors.map((e) => problemOf(e.code, e.message, e.field)));
      return;
    }
    if (payload?.quote) {
      // A new quote is a new commit: a new idempotency key.
      idempotency.reset();
      setQuote(payload.quote);
    }
  };

  const requestCommit = async () => {
    if (!quote) return;
    setCommitProblem(null);
    const input = { quoteToken: quote.token, idempotencyKey: idempotency.key(), orderId: orderId.trim() };
    const result = await runCommit({ input });
    if (result.error) {
      // Transport or server failure: the commit may or may not have happened; retrying with the same key is safe.
      const code = graphQLErrorCode(result.error) ?? 'error';
      setCommitProblem({ ...problemOf(code, combinedErrorMessage(result.error)), refusal: 'retry' });
      return;
    }
    const payload = result.data?.checkoutCommit;
    const error = payload?.errors[0];
    if (error) {
      setCommitProblem({ ...problemOf(error.code, error.message, error.field), refusal: refusalOf(error.code) });
      return;
    }
    if (payload?.commit) {
      setCommit({ commit: payload.commit, replayed: payload.replayed });
      idempotency.reset();
    }
  };

  const next = () => {
    setForm(emptyForm());
    setErrors({});
    setQuote(null);
    setQuoteProblems([]);
    setOrderId('');
    setCommit(null);
    setCommitProblem(null);
    idempotency.reset();
  };

  const canCommit = quote != null && commit == null && (commitProblem == null || commitProblem.refusal === 'retry');
  const errorText = (key: string) => (errors[key] ? t(errors[key]) : null);

  return (
    <Stack>
      <Paper withBorder p={{ base: 'md', sm: 'lg' }}>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void requestQuote();
          }}
          aria-label={t('checkout.formLabel')}
        >
          <Stack>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput
                label={t('checkout.customer')}
                description={t('checkout.customerHelp')}
                value={form.customerId}
                onChange={(event) => update({ customerId: event.currentTarget.value })}
                autoComplete="off"
                spellCheck={false}
              />
              <Autocomplete
                label={t('checkout.paymentType')}
                description={t('checkout.paymentTypeHelp')}
                data={PAYMENT_TYPES.map((value) => ({ value, label: t(`checkout.paymentTypes.${value}`, { defaultValue: value }) }))}
                value={form.paymentType}
                onChange={(value) => update({ paymentType: value })}
              />
            </SimpleGrid>
            <SegmentedControl
              aria-label={t('checkout.modeLabel')}
              value={form.mode}
              onChange={(value) => update({ mode: value as CheckoutForm['mode'] })}
              data={[
                { value: 'lines', label: t('checkout.modes.lines') },
                { value: 'total', label: t('checkout.modes.total') },
              ]}
              style={{ alignSelf: 'flex-start' }}
            />
            {form.mode === 'total' ? (
              <NumberInput
                label={t('checkout.total')}
                value={form.total}
                onChange={(value) => update({ total: value })}
                error={errorText('total')}
                min={0}
                decimalScale={2}
                hideControls
              />
            ) : (
              <Stack gap="xs" data-testid="checkout-lines">
                {form.lines.map((line, index) => (
                  <Group key={line.key} gap="xs" align="flex-start" wrap="wrap" data-testid="checkout-line">
                    <TextInput
                      label={t('checkout.line.productIdShort')}
                      aria-label={t('checkout.line.productId', { n: index + 1 })}
                      value={line.productId}
                      onChange={(event) => updateLine(index, { productId: event.currentTarget.value })}
                      w={150}
                      autoComplete="off"
                    />
                    <TextInput
                      label={t('checkout.line.categoryShort')}
                      aria-label={t('checkout.line.category', { n: index + 1 })}
                      value={line.categorySlug}
                      onChange={(event) => updateLine(index, { categorySlug: event.currentTarget.value })}
                      w={150}
                      autoComplete="off"
                    />
                    <NumberInput
                      label={t('checkout.line.quantityShort')}
                      aria-label={t('checkout.line.quantity', { n: index + 1 })}
                      value={line.quantity}
                      onChange={(value) => updateLine(index, { quantity: value })}
                      error={errorText(`lines.${index}.quantity`)}
                      min={1}
                      allowDecimal={false}
                      w={110}
                    />
                    <NumberInput
                      label={t('checkout.line.unitPriceShort')}
                      aria-label={t('checkout.line.unitPrice', { n: index + 1 })}
                      value={line.unitPrice}
                      onChange={(value) => updateLine(index, { unitPrice: value })}
                      error={errorText(`lines.${index}.unitPrice`)}
                      min={0}
                      decimalScale={2}
                      hideControls
                      w={130}
                    />
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      mt={26}
                      size="lg"
                      aria-label={t('checkout.line.remove', { n: index + 1 })}
                      disabled={form.lines.length === 1}
                      onClick={() => update({ lines: form.lines.filter((_, i) => i !== index) })}
                    >
                      <IconTrash size={16} />
                    </ActionIcon>
                  </Group>
                ))}
                {errorText('lines') ? (
                  <Text c="red" size="sm">
                    {errorText('lines')}
                  </Text>
                ) : null}
                <Button
                  variant="subtle"
                  leftSection={<IconPlus size={16} />}
                  onClick={() => update({ lines: [...form.lines, emptyLine()] })}
                  style={{ alignSelf: 'flex-start' }}
                >
                  {t('checkout.line.add')}
                </Button>
              </Stack>
            )}
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TagsInput
                label={t('checkout.coupons')}
                description={t('checkout.couponsHelp')}
                value={form.couponCodes}
                onChange={(value) => update({ couponCodes: value })}
                splitChars={[',', ' ', ';']}
                allowDuplicates
                clearable
                acceptValueOnBlur
              />
              <NumberInput
                label={t('checkout.points')}
                description={t('checkout.pointsHelp')}
                value={form.pointsToSpend}
                onChange={(value) => update({ pointsToSpend: value })}
                error={errorText('pointsToSpend')}
                min={0}
                allowDecimal={false}
                placeholder="0"
              />
            </SimpleGrid>
            <Group>
              <Button type="submit" size="md" loading={quoteState.fetching}>
                {t('checkout.quote')}
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
      {quoteProblems.length > 0 ? (
        <Alert color="red" role="alert" data-testid="checkout-quote-error" title={t('checkout.quoteFailed')}>
          <Stack gap={4}>
            {quoteProblems.map((p, i) => (
              <div key={i} data-code={p.code}>
                <Text size="sm">{p.message}</Text>
                {p.detail && p.code === 'INVALID_INPUT' ? (
                  <Text size="xs" c="dimmed" dir="ltr">
                    {p.detail}
                  </Text>
                ) : null}
              </div>
            ))}
          </Stack>
        </Alert>
      ) : null}
      {quote ? <QuoteView quote={quote} /> : null}
      {quote ? (
        <Paper withBorder p={{ base: 'md', sm: 'lg' }}>
          <Stack>
            <TextInput
              label={t('order')}
              description={t('checkout.orderHelp')}
              value={orderId}
              onChange={(event) => setOrderId(event.currentTarget.value)}
              autoComplete="off"
              disabled={commit != null}
            />
            <Group>
              <Button size="md" color="teal" onClick={() => void requestCommit()} loading={commitState.fetching} disabled={!canCommit}>
                {t('checkout.commit')}
              </Button>
              {commit ? (
                <Button variant="default" onClick={next}>
                  {t('checkout.next')}
                </Button>
              ) : null}
            </Group>
          </Stack>
        </Paper>
      ) : null}
      {commitProblem ? (
        <Alert
          color={commitProblem.refusal === 'done' ? 'orange' : 'red'}
          role="alert"
          data-testid="checkout-commit-error"
          data-code={commitProblem.code}
          title={t(`checkout.refusals.${commitProblem.refusal}`)}
        >
          {commitProblem.message}
        </Alert>
      ) : null}
      {commit ? <CommitView commit={commit.commit} replayed={commit.replayed} /> : null}
    </Stack>
  );
}

function DiscountList({ discounts, currency }: { discounts: Quote['discounts']; currency: string }) {
  const { t } = useTranslation('cashier');
  if (discounts.length === 0) return null;
  return (
    <Stack gap={2}>
      {discounts.map((d, i) => (
        <Group key={i} gap={6} wrap="nowrap" data-testid="checkout-discount" data-source={d.source} data-coupon={d.couponCode ?? undefined}>
          <Badge size="xs" variant="light" color={SOURCE_COLORS[d.source] ?? 'gray'}>
            {t(`checkout.sources.${d.source}`)}
          </Badge>
          <Text size="sm">
            {d.source === 'POINTS' ? t('checkout.pointsLabel') : d.label}
            {d.couponCode && !d.label.includes(d.couponCode) ? ` (${d.couponCode})` : ''}
          </Text>
          <Text size="sm" c="teal" fw={600} style={{ whiteSpace: 'nowrap' }}>
            {formatDeduction(d.amount, currency)}
          </Text>
        </Group>
      ))}
    </Stack>
  );
}

const SOURCE_COLORS: Record<string, string> = { TIER: 'grape', PROMOTION: 'blue', COUPON: 'teal', POINTS: 'orange' };

/** An amount taken off, as a negative sum in `currency` (Intl places the sign right in either direction). */
export function formatDeduction(amount: string, currency: string): string {
  const n = Number(amount);
  return formatMoney(n === 0 ? 0 : -n, currency);
}

/** One quote: the lines with their discounts, the totals, and what was not applied and why. */
export function QuoteView({ quote }: { quote: Quote }) {
  const { t } = useTranslation('cashier');
  const money = (amount: string) => formatMoney(amount, quote.currency);
  return (
    <Paper withBorder p={{ base: 'md', sm: 'lg' }} data-testid="checkout-quote">
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h4">
            {t('checkout.quoteTitle')}
          </Title>
          <Text size="xs" c="dimmed">
            {t('checkout.expires', { date: formatDateTime(quote.expiresAt) })}
          </Text>
        </Group>
        <Table.ScrollContainer minWidth={640}>
          <Table striped verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>#</Table.Th>
                <Table.Th>{t('checkout.columns.item')}</Table.Th>
                <Table.Th>{t('checkout.columns.quantity')}</Table.Th>
                <Table.Th>{t('checkout.columns.before')}</Table.Th>
                <Table.Th>{t('checkout.columns.discounts')}</Table.Th>
                <Table.Th>{t('checkout.columns.points')}</Table.Th>
                <Table.Th>{t('checkout.columns.after')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {quote.lines.map((line) => (
                <Table.Tr key={line.lineNo} data-testid="checkout-quote-line">
                  <Table.Td>{formatPoints(line.lineNo)}</Table.Td>
                  <Table.Td>
                    {[line.productId, line.categorySlug].filter(Boolean).join(' · ') || t('checkout.anyItem')}
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    {formatPoints(line.quantity)} × {money(line.unitPrice)}
                  </Table.Td>
                  <Table.Td data-testid="line-before">{money(line.priceBefore)}</Table.Td>
                  <Table.Td>
                    {line.discounts.length > 0 ? <DiscountList discounts={line.discounts} currency={quote.currency} /> : '—'}
                  </Table.Td>
                  <Table.Td>{Number(line.pointsAmount) > 0 ? formatDeduction(line.pointsAmount, quote.currency) : '—'}</Table.Td>
                  <Table.Td data-testid="line-after" fw={600}>
                    {money(line.amountDue)}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {quote.discounts.length > 0 ? (
          <Stack gap={4} data-testid="checkout-discounts">
            <Text fw={600} size="sm">
              {t('checkout.discountsTitle')}
            </Text>
            <DiscountList discounts={quote.discounts} currency={quote.currency} />
          </Stack>
        ) : null}
        <Table withRowBorders={false} verticalSpacing={4} maw={420} data-testid="checkout-totals">
          <Table.Tbody>
            <TotalRow label={t('checkout.totals.subtotal')} value={money(quote.subtotal)} name="subtotal" />
            <TotalRow label={t('checkout.totals.discount')} value={formatDeduction(quote.discountTotal, quote.currency)} name="discount" />
            {quote.pointsSpent > 0 ? (
              <TotalRow
                label={t('checkout.totals.points', { points: formatPoints(quote.pointsSpent) })}
                value={formatDeduction(quote.pointsAmount, quote.currency)}
                name="points"
              />
            ) : null}
            <TotalRow label={t('checkout.totals.due')} value={money(quote.totalDue)} name="due" strong />
            <TotalRow label={t('checkout.totals.earned')} value={t('checkout.pts', { points: formatPoints(quote.pointsEarned) })} name="earned" />
          </Table.Tbody>
        </Table>
        {quote.notApplied.length > 0 ? (
          <Alert color="orange" variant="light" title={t('checkout.notAppliedTitle')} data-testid="checkout-not-applied">
            <Stack gap={4}>
              {quote.notApplied.map((n, i) => (
                <Text key={i} size="sm" data-testid="not-applied" data-reason={n.reason}>
                  <Text span fw={600}>
                    {n.couponCode ?? t(`checkout.sources.${n.source}`)}
                  </Text>
                  {': '}
                  {t(`checkout.reasons.${n.reason}`, { defaultValue: n.message || n.reason })}
                </Text>
              ))}
            </Stack>
          </Alert>
        ) : null}
      </Stack>
    </Paper>
  );
}

function TotalRow({ label, value, name, strong }: { label: string; value: string; name: string; strong?: boolean }) {
  return (
    <Table.Tr data-testid={`total-${name}`}>
      <Table.Td fw={strong ? 700 : undefined}>{label}</Table.Td>
      <Table.Td fw={strong ? 700 : undefined} fz={strong ? 'lg' : undefined} ta="end" style={{ whiteSpace: 'nowrap' }}>
        {value}
      </Table.Td>
    </Table.Tr>
  );
}

/** A booked checkout: what the customer pays, the points moved. */
function CommitView({ commit, replayed }: { commit: CheckoutCommitFieldsFragment; replayed: boolean }) {
  const { t } = useTranslation('cashier');
  const money = (amount: string) => formatMoney(amount, commit.quote.currency);
  return (
    <Alert
      color="teal"
      variant="light"
      icon={<IconCircleCheck size={28} aria-hidden />}
      title={<Text fw={700} fz="lg">{t('checkout.committedTitle')}</Text>}
      role="status"
      data-testid="checkout-commit"
      data-state="committed"
    >
      <Stack gap={4}>
        <Text>{t('checkout.committedText', { total: money(commit.totalDue) })}</Text>
        <Text size="sm">
          {t('checkout.committedDetails', {
            discount: money(commit.discountTotal),
            points: formatPoints(commit.pointsSpent),
            earned: formatPoints(commit.quote.pointsEarned),
          })}
        </Text>
        {commit.orderId ? <Text size="sm">{t('checkout.committedOrder', { order: commit.orderId })}</Text> : null}
        {commit.pointsReturned > 0 ? (
          <Text size="sm">{t('checkout.pointsReturned', { points: formatPoints(commit.pointsReturned) })}</Text>
        ) : null}
        {replayed ? (
          <Text size="sm" c="dimmed">
            {t('checkout.replayed')}
          </Text>
        ) : null}
        <Text size="xs" c="dimmed">
          {formatDateTime(commit.committedAt)}
        </Text>
      </Stack>
    </Alert>
  );
}

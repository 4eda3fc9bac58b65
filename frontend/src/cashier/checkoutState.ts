import type { CheckoutErrorCode, CheckoutQuoteInput } from '../gql/graphql';

type NumberValue = number | string;

/** One basket line as the cashier types it (NumberInput gives numbers or strings). */
export interface BasketLine {
  /** Stable React key; never sent. */
  key: string;
  productId: string;
  categorySlug: string;
  quantity: NumberValue;
  unitPrice: NumberValue;
}

/** Lines (every line typed) or the quick mode: the basket's total as one line of quantity 1. */
export type BasketMode = 'lines' | 'total';

/** Everything the checkout form holds before a quote. */
export interface CheckoutForm {
  customerId: string;
  mode: BasketMode;
  lines: BasketLine[];
  total: NumberValue;
  couponCodes: string[];
  pointsToSpend: NumberValue;
  paymentType: string;
}

let nextKey = 0;

/** An empty basket line. */
export function emptyLine(): BasketLine {
  nextKey += 1;
  return { key: `line-${nextKey}`, productId: '', categorySlug: '', quantity: 1, unitPrice: '' };
}

/** A fresh form: guest, one empty line, no coupons, no points. */
export function emptyForm(): CheckoutForm {
  return { customerId: '', mode: 'lines', lines: [emptyLine()], total: '', couponCodes: [], pointsToSpend: '', paymentType: '' };
}

/** Input errors found before asking the server, keyed `customerId`, `total`, `lines.<i>.quantity`, ... */
export type FormErrors = Record<string, string>;

const isBlank = (v: NumberValue) => v === '' || v === null || v === undefined;
const asNumber = (v: NumberValue) => (typeof v === 'number' ? v : Number(String(v).trim()));

/**
 * Splits what a cashier typed or a scanner sent into coupon codes: whitespace, commas and
 * semicolons separate codes; empty pieces are dropped. Duplicates stay (the server reports them).
 */
export function splitCodes(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((code) => code.trim())
    .filter(Boolean);
}

/**
 * The `CheckoutQuoteInput` of the form, or the errors that stop it (keys as `FormErrors`, values
 * are i18n keys of the `cashier` namespace).
 */
export function quoteInput(shopId: string, form: CheckoutForm): { input: CheckoutQuoteInput | null; errors: FormErrors } {
  const errors: FormErrors = {};
  const lines: CheckoutQuoteInput['lines'] = [];
  if (form.mode === 'total') {
    const total = asNumber(form.total);
    if (isBlank(form.total) || !Number.isFinite(total) || total < 0) errors.total = 'checkout.errors.amount';
    else lines.push({ quantity: 1, unitPrice: String(form.total).trim() });
  } else {
    form.lines.forEach((line, index) => {
      const quantity = asNumber(line.quantity);
      const price = asNumber(line.unitPrice);
      if (isBlank(line.quantity) || !Number.isInteger(quantity) || quantity < 1) errors[`lines.${index}.quantity`] = 'checkout.errors.quantity';
      if (isBlank(line.unitPrice) || !Number.isFinite(price) || price < 0) errors[`lines.${index}.unitPrice`] = 'checkout.errors.amount';
      lines.push({
        productId: line.productId.trim() || null,
        categorySlug: line.categorySlug.trim() || null,
        quantity,
        unitPrice: String(line.unitPrice).trim(),
      });
    });
    if (form.lines.length === 0) errors.lines = 'checkout.errors.noLines';
  }
  const points = isBlank(form.pointsToSpend) ? 0 : asNumber(form.pointsToSpend);
  if (!Number.isInteger(points) || points < 0) errors.pointsToSpend = 'checkout.errors.points';
  if (Object.keys(errors).length > 0) return { input: null, errors };
  return {
    input: {
      shopId,
      customerId: form.customerId.trim() || null,
      lines,
      couponCodes: form.couponCodes.flatMap(splitCodes),
      pointsToSpend: points,
      paymentType: form.paymentType.trim(),
    },
    errors,
  };
}

/**
 * What a refused commit means for the quote on screen: `requote` (prices or the quote itself
 * changed: quote again before committing), `done` (this quote was committed already), or
 * `retry` (nothing was committed; the same commit may be tried again).
 */
export type CommitRefusal = 'requote' | 'done' | 'retry';

const REFUSAL_OF_CODE: Partial<Record<CheckoutErrorCode, CommitRefusal>> = {
  QUOTE_STALE: 'requote',
  QUOTE_EXPIRED: 'requote',
  QUOTE_INVALID: 'requote',
  QUOTE_ALREADY_COMMITTED: 'done',
  IDEMPOTENCY_CONFLICT: 'requote',
};

/** The refusal kind of a commit error code (unknown codes may be retried). */
export function refusalOf(code: string): CommitRefusal {
  return REFUSAL_OF_CODE[code as CheckoutErrorCode] ?? 'retry';
}

/** The i18n key (`cashier` namespace) for a checkout error code, with the generic one as fallback. */
export function checkoutErrorKey(code: string): string[] {
  return [`checkout.errors.codes.${code}`, `common:errors.${code}`];
}

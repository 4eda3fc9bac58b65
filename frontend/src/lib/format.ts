import i18n from '../i18n';

function locale(): string {
  return i18n.language === 'fa' ? 'fa-IR' : 'en-US';
}

/** Whole points with grouping, in the current language's digits (Persian digits in fa). */
export function formatPoints(n: number): string {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(n);
}

/** Points with an explicit sign (+30, −30; none for 0), in the current language's digits. */
export function formatSignedPoints(n: number): string {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 0, signDisplay: 'exceptZero' }).format(n);
}

/** Any number (decimals kept, up to `maxDigits`) in the current language's digits. */
export function formatNumber(n: number | string, maxDigits = 2): string {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: maxDigits }).format(Number(n));
}

/** A Decimal string amount in an ISO 4217 currency. */
export function formatMoney(amount: string | number, currency: string): string {
  try {
    return new Intl.NumberFormat(locale(), { style: 'currency', currency }).format(Number(amount));
  } catch {
    // An unknown currency code must not break the page.
    return `${formatNumber(amount)} ${currency}`;
  }
}

/** A ratio 0..1 as a percentage. */
export function formatPercent(fraction: number | string): string {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(Number(fraction));
}

/**
 * A calendar day (`2026-03-01`) or an instant as a date; Persian uses its own calendar.
 * Plain dates are read as that day, whatever the browser's time zone.
 */
export function formatDate(iso: string): string {
  const plainDate = /^\d{4}-\d{2}-\d{2}$/.test(iso);
  const date = new Date(plainDate ? `${iso}T12:00:00Z` : iso);
  return new Intl.DateTimeFormat(locale(), {
    dateStyle: 'medium',
    ...(plainDate ? { timeZone: 'UTC' } : {}),
  }).format(date);
}

/** An instant as date and time. */
export function formatDateTime(iso: string): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

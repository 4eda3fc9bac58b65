/**
 * Wall-clock conversions in the shop's IANA time zone.
 *
 * The API reads rule windows, member filters and analytics days in the shop's time zone, while
 * the browser may sit anywhere; Mantine's date inputs hand us naive `YYYY-MM-DD HH:mm:ss`
 * strings, so these helpers attach (or strip) the shop's offset for that instant.
 */

const pad = (n: number) => String(n).padStart(2, '0');

function zonedParts(date: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
  };
}

/** Offset of `timeZone` from UTC at `date`, in minutes (Tehran: +210). */
export function zoneOffsetMinutes(date: Date, timeZone: string): number {
  const p = zonedParts(date, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * Turns a naive local value (`YYYY-MM-DD`, `YYYY-MM-DD HH:mm[:ss]` or with a `T`) read in
 * `timeZone` into an ISO instant with that zone's offset; null for empty input.
 */
export function localToIso(local: string | null | undefined, timeZone: string): string | null {
  if (!local) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(local.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number);
  const naiveUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  // Two passes settle the offset around DST changes.
  let offset = zoneOffsetMinutes(new Date(naiveUtc), timeZone);
  offset = zoneOffsetMinutes(new Date(naiveUtc - offset * 60000), timeZone);
  return `${m[1]}-${m[2]}-${m[3]}T${pad(h)}:${pad(mi)}:${pad(s)}${formatOffset(offset)}`;
}

/** The wall-clock `YYYY-MM-DD HH:mm:ss` of an ISO instant in `timeZone`; null for null. */
export function isoToLocal(iso: string | null | undefined, timeZone: string): string | null {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  const p = zonedParts(date, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/** Today's date (`YYYY-MM-DD`) in `timeZone`, optionally shifted by whole days. */
export function todayIn(timeZone: string, shiftDays = 0, now: Date = new Date()): string {
  const p = zonedParts(now, timeZone);
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + shiftDays));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Start of the local day after `date` (`YYYY-MM-DD`), for exclusive upper bounds. */
export function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  return `${next.getUTCFullYear()}-${pad(next.getUTCMonth() + 1)}-${pad(next.getUTCDate())}`;
}

/** `HH:mm` of an API `Time` (`HH:mm:ss`), or null. */
export function timeToInput(value: string | null | undefined): string | null {
  return value ? value.slice(0, 5) : null;
}

/** An input `HH:mm` (or `HH:mm:ss`) as an API `Time`, or null when empty. */
export function inputToTime(value: string | null | undefined): string | null {
  if (!value) return null;
  return value.length === 5 ? `${value}:00` : value;
}

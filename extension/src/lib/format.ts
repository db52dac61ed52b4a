// Numbers and times in words for the badge, the popup and the viewer. Pure: the current time
// and the locale are passed in, so the same input always reads the same.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A count in at most four characters, for the toolbar badge: 23, 999, 1.2k, 12k, 1.2M. */
export function formatCountShort(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1000) return String(Math.floor(n));
  const [unit, size] = n < 1_000_000 ? ['k', 1000] : ['M', 1_000_000];
  const scaled = n / size;
  // One decimal below 10 (1.2k), none above (12k); truncate so 1,999 never reads as 2.0k.
  const text = scaled < 10 ? (Math.floor(scaled * 10) / 10).toFixed(1).replace(/\.0$/, '') : String(Math.floor(scaled));
  return `${text}${unit}`;
}

/** A count with grouping: 4,817 (en-US). */
export function formatCount(n: number, locale?: string): string {
  return new Intl.NumberFormat(locale).format(n);
}

/** A duration in words, two units at most: "45 s", "3 min 5 s", "2 h 10 min", "4 d 3 h". */
export function formatDuration(ms: number): string {
  const abs = Math.max(0, Math.round(ms / SECOND) * SECOND);
  if (abs < MINUTE) return `${abs / SECOND} s`;
  if (abs < HOUR) return pair(Math.floor(abs / MINUTE), 'min', Math.floor((abs % MINUTE) / SECOND), 's');
  if (abs < DAY) return pair(Math.floor(abs / HOUR), 'h', Math.floor((abs % HOUR) / MINUTE), 'min');
  return pair(Math.floor(abs / DAY), 'd', Math.floor((abs % DAY) / HOUR), 'h');
}

function pair(big: number, bigUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
}

/** A countdown clock: "4:05", "1:02:03"; "0:00" once past. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / SECOND));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "12 s ago", "in 3 min", "just now". */
export function formatRelative(at: number, now: number): string {
  const delta = at - now;
  if (Math.abs(delta) < SECOND) return 'just now';
  return delta < 0 ? `${formatDuration(-delta)} ago` : `in ${formatDuration(delta)}`;
}

/** A moment in the reader's local time: "2026-11-24 09:15:02". */
export function formatLocalTime(at: number): string {
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A calendar day in the reader's local time: "2027-02-22". */
export function formatLocalDate(at: number): string {
  return formatLocalTime(at).slice(0, 10);
}

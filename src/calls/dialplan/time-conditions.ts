/**
 * Time-of-day conditions of a rule, evaluated on a wall-clock instant in an IANA time zone.
 * Zone conversion uses the runtime's Intl tables (no dependency), so daylight-saving changes
 * follow the zone rules: 09:00 in Europe/Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
 *
 * Semantics of a rule's `when` list:
 *   - the positive conditions are alternatives: at least one must hold (none listed = always);
 *   - the negated ones are exclusions: none may hold (holidays, lunch breaks).
 * Inside one condition every given field must hold. `from` is inclusive, `to` exclusive; when
 * `from` > `to` the range runs overnight, and its part after midnight belongs to the day it
 * started on (`days: [fri], from: '22:00', to: '06:00'` is open on Saturday at 02:00).
 * `dates` are calendar dates in the condition's zone ('YYYY-MM-DD', or 'MM-DD' every year),
 * checked on the actual date.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface CompiledTimeCondition {
  timezone: string;
  /** weekday numbers 0 (Sunday) – 6, undefined = every day */
  days: ReadonlySet<number> | undefined;
  /** minutes after midnight; `to` may be 1440 (24:00) */
  from: number | undefined;
  to: number | undefined;
  /** inclusive date ranges (lexical order of the strings is date order) */
  dates: readonly DateRange[] | undefined;
  negate: boolean;
  /** the condition as configured, for traces */
  label: string;
}

/** Local calendar fields of an instant in a zone. */
export interface LocalTime {
  date: string;
  weekday: number;
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** True when the runtime knows the IANA zone name. */
export function isKnownTimezone(timezone: string): boolean {
  try {
    formatterFor(timezone);
    return true;
  } catch {
    return false;
  }
}

export function localTime(at: number, timezone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timezone).formatToParts(new Date(at))) parts[p.type] = p.value;
  const weekday = WEEKDAYS.indexOf((parts['weekday'] ?? '').toLowerCase().slice(0, 3) as Weekday);
  return {
    date: `${parts['year']}-${parts['month']}-${parts['day']}`,
    weekday,
    minutes: Number(parts['hour']) * 60 + Number(parts['minute']),
  };
}

/** 'HH:MM' → minutes; 24:00 only where `allowEndOfDay`. Undefined when malformed. */
export function parseClock(text: string, allowEndOfDay: boolean): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (m !== null) return Number(m[1]) * 60 + Number(m[2]);
  if (allowEndOfDay && text === '24:00') return 1440;
  return undefined;
}

/** 'mon', 'mon-fri', 'fri-mon' (wraps) → weekday numbers; a string message when malformed. */
export function parseDays(specs: readonly string[]): Set<number> | string {
  const out = new Set<number>();
  for (const spec of specs) {
    const [a, b, extra] = spec.toLowerCase().split('-');
    const from = WEEKDAYS.indexOf(a as Weekday);
    const to = b === undefined ? from : WEEKDAYS.indexOf(b as Weekday);
    if (from === -1 || to === -1 || extra !== undefined) return `'${spec}' is not a day or day range (mon..sun, e.g. 'mon-fri')`;
    for (let d = from; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === to) break;
    }
  }
  return out;
}

/** An inclusive date range; yearly ones hold 'MM-DD' and may wrap the year end. */
export interface DateRange {
  from: string;
  to: string;
  yearly: boolean;
}

function isRealDate(text: string): boolean {
  // 'MM-DD' is checked in a leap year so that 02-29 is allowed
  const full = /^\d{2}-\d{2}$/.test(text) ? `2000-${text}` : text;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(full);
  if (m === null) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === full;
}

/**
 * 'YYYY-MM-DD' or 'YYYY-MM-DD/YYYY-MM-DD' (ISO 8601 interval, inclusive), or the yearly forms
 * 'MM-DD' and 'MM-DD/MM-DD' (a yearly range may wrap the year end: '12-24/01-01').
 */
export function parseDates(specs: readonly string[]): DateRange[] | string {
  const out: DateRange[] = [];
  for (const spec of specs) {
    const [a, b, extra] = spec.split('/');
    const from = a ?? '';
    const to = b ?? from;
    if (extra !== undefined || !isRealDate(from) || !isRealDate(to) || from.length !== to.length) {
      return `'${spec}' is not a date (YYYY-MM-DD, or MM-DD every year) or a range of them (YYYY-MM-DD/YYYY-MM-DD, MM-DD/MM-DD)`;
    }
    const yearly = from.length === 5;
    if (!yearly && to < from) return `date range '${spec}' ends before it starts`;
    out.push({ from, to, yearly });
  }
  return out;
}

function dateIn(range: DateRange, date: string): boolean {
  if (!range.yearly) return date >= range.from && date <= range.to;
  const md = date.slice(5);
  return range.from <= range.to ? md >= range.from && md <= range.to : md >= range.from || md <= range.to;
}

function previousWeekday(d: number): number {
  return (d + 6) % 7;
}

/** Does the condition hold at `at` (ignoring `negate`)? */
export function conditionHolds(c: CompiledTimeCondition, at: number): boolean {
  const local = localTime(at, c.timezone);
  let day = local.weekday;
  if (c.from !== undefined || c.to !== undefined) {
    const from = c.from ?? 0;
    const to = c.to ?? 1440;
    if (from < to) {
      if (local.minutes < from || local.minutes >= to) return false;
    } else {
      // overnight: [from, 24:00) today or [00:00, to) as the tail of yesterday's range
      if (local.minutes >= from) {
        // evening part: the range started today
      } else if (local.minutes < to) {
        day = previousWeekday(day);
      } else return false;
    }
  }
  if (c.days !== undefined && !c.days.has(day)) return false;
  if (c.dates !== undefined && !c.dates.some((range) => dateIn(range, local.date))) return false;
  return true;
}

/** The `when` list of a rule: some positive condition holds (if any) and no negated one does. */
export function timeAllows(conditions: readonly CompiledTimeCondition[], at: number): { ok: boolean; why: string } {
  const positive = conditions.filter((c) => !c.negate);
  for (const c of conditions) {
    if (c.negate && conditionHolds(c, at)) return { ok: false, why: `excluded by ${c.label}` };
  }
  if (positive.length === 0) return { ok: true, why: conditions.length === 0 ? 'no time condition' : 'no exclusion applies' };
  const hit = positive.find((c) => conditionHolds(c, at));
  if (hit === undefined) return { ok: false, why: `outside ${positive.map((c) => c.label).join(' and ')}` };
  return { ok: true, why: `within ${hit.label}` };
}

import { ValidationError } from '../model/errors.js';

/**
 * A half-open time window: `after` is inclusive, `before` is exclusive. A missing bound is open.
 * It has the same meaning as `MemoryFilter.after` / `MemoryFilter.before`.
 */
export interface TimeWindow {
  after?: Date;
  before?: Date;
}

export interface ParseTimeWindowOptions {
  /** The reference instant for relative expressions. Default: the current time. */
  now?: Date;
  /** First day of the week for `this week`, `last week`, `N weeks ago`: 0 = Sunday, 1 = Monday (default). */
  weekStartsOn?: 0 | 1;
  /** Calendar used for day/week/month/year boundaries: 'utc' (default) or 'local' (the process time zone). */
  timeZone?: 'local' | 'utc';
}

/**
 * Parses a small, predictable English time expression into a {@link TimeWindow}. Matching is
 * case-insensitive and ignores extra whitespace and commas. Calendar boundaries are midnights in
 * the chosen time zone (UTC by default). A "period" below is a span `[start, end)`.
 *
 * Periods:
 * - `today`, `yesterday`: that calendar day.
 * - `this week|month|year`: the current calendar unit, whole (its end may lie in the future).
 * - `last|previous week|month|year`: the previous calendar unit (`last month` in January = December of last year).
 * - `last|past|previous N hours|days|weeks|months|years`: rolling, `[now - N units, now)`. N is 1-999999 in digits or
 *   a word `one`…`twelve`. Months/years step by calendar month, clamping the day (Mar 31 - 1 month = Feb 28/29).
 * - `past hour|day|week|month|year` and `last hour|day`: the same rolling window with N = 1
 *   (`last day` = the past 24 hours; use `yesterday` for the calendar day).
 * - `N hours|days|weeks|months|years ago` (N may also be `a`/`an`): the whole calendar unit N units back:
 *   `3 days ago` = that day, `2 weeks ago` = that calendar week, `1 month ago` = last month, `an hour ago` = that clock hour.
 * - `monday`…`sunday` (or `mon`, `tue`, …), optionally `last monday`: the most recent such day strictly before today.
 * - `march` / `mar`: the most recent March that has started (this year's if it has begun, else last year's);
 *   `march 2024`, `mar 2024`, `2024-03`: that month. `march 5`, `5 march`, `march 5th`: that day in the most recent
 *   year where it has started; `march 5 2024`, `5 march 2024`, `2024-03-05`: that day. `2024`: that year.
 * - Optional lead-ins are ignored: `in`, `during`, `within`, `on`, `over`, then `the` (`in the last 3 days`, `in march`).
 *
 * Instants: a full ISO timestamp (`2024-03-05T10:00`, seconds, fractions and `Z`/`±hh:mm` optional; a space may
 * replace `T`; without an offset it is read in the chosen time zone) is the instant itself, `start = end`.
 *
 * Whole expressions:
 * - a period → `{ after: start, before: end }`; an instant → `{ after: instant }` (that instant onwards).
 * - `since X` / `after X` → `{ after: start of X }` (X included, open-ended).
 * - `before X` → `{ before: start of X }` (X excluded); `until X` / `till X` / `through X` → `{ before: end of X }` (X included).
 * - `between X and Y` / `from X to|until|till|through Y` → `{ after: start of X, before: end of Y }`;
 *   a ValidationError if that is empty (X starts at or after the end of Y). A bare `from X` is rejected as ambiguous.
 *
 * Anything else throws a {@link ValidationError} on field `time` that quotes the input and lists these forms;
 * the result is never silently empty.
 */
export function parseTimeWindow(expression: string, options: ParseTimeWindowOptions = {}): TimeWindow {
  const input = typeof expression === 'string' ? expression : String(expression);
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new ValidationError([{ field: 'now', message: 'options.now must be a valid Date' }]);
  }
  const weekStartsOn = options.weekStartsOn ?? 1;
  if (weekStartsOn !== 0 && weekStartsOn !== 1) {
    throw new ValidationError([{ field: 'weekStartsOn', message: 'options.weekStartsOn must be 0 (Sunday) or 1 (Monday)' }]);
  }
  const timeZone = options.timeZone ?? 'utc';
  if (timeZone !== 'utc' && timeZone !== 'local') {
    throw new ValidationError([{ field: 'timeZone', message: "options.timeZone must be 'utc' or 'local'" }]);
  }
  const context: Context = {
    input,
    now: new Date(now.getTime()),
    weekStartsOn,
    calendar: timeZone === 'utc' ? utcCalendar : localCalendar,
  };

  if (typeof expression !== 'string') throw invalid(context, `expected a string, got ${typeof expression}`);
  const text = normalize(expression);
  if (text === '') throw invalid(context, 'the expression is empty');
  return checked(context, parseExpression(context, text));
}

/** The accepted forms, as listed in error messages. */
const ACCEPTED_FORMS =
  'today, yesterday, this|last week|month|year, last|past N days|weeks|months|years (also hours), ' +
  'N days|weeks|months|years ago, monday or last monday, march, march 2024, march 5, 2024, 2024-03, 2024-03-05, ' +
  'an ISO timestamp, since|after|before|until X, between X and Y, from X to Y';

type Unit = 'hour' | 'day' | 'week' | 'month' | 'year';

/** `[start, end)`; for an instant, `start` equals `end`. */
interface Span {
  start: Date;
  end: Date;
}

interface Parts {
  year: number;
  month: number; // 0-11
  day: number; // 1-31
  weekday: number; // 0 = Sunday
  hours: number;
  minutes: number;
  seconds: number;
  milliseconds: number;
}

interface Calendar {
  parts(date: Date): Parts;
  /** Builds a date from (possibly overflowing) calendar fields, e.g. day 0 = last day of the previous month. */
  make(year: number, month: number, day: number, hours?: number, minutes?: number, seconds?: number, ms?: number): Date;
  startOfHour(date: Date): Date;
}

interface Context {
  input: string;
  now: Date;
  weekStartsOn: 0 | 1;
  calendar: Calendar;
}

const utcCalendar: Calendar = {
  parts: (date) => ({
    year: date.getUTCFullYear(),
    month: date.getUTCMonth(),
    day: date.getUTCDate(),
    weekday: date.getUTCDay(),
    hours: date.getUTCHours(),
    minutes: date.getUTCMinutes(),
    seconds: date.getUTCSeconds(),
    milliseconds: date.getUTCMilliseconds(),
  }),
  make: (year, month, day, hours = 0, minutes = 0, seconds = 0, ms = 0) => {
    // setUTCFullYear (unlike Date.UTC) does not map years 0-99 to 1900-1999.
    const date = new Date(0);
    date.setUTCFullYear(year, month, day);
    date.setUTCHours(hours, minutes, seconds, ms);
    return date;
  },
  startOfHour: (date) => {
    const copy = new Date(date.getTime());
    copy.setUTCMinutes(0, 0, 0);
    return copy;
  },
};

const localCalendar: Calendar = {
  parts: (date) => ({
    year: date.getFullYear(),
    month: date.getMonth(),
    day: date.getDate(),
    weekday: date.getDay(),
    hours: date.getHours(),
    minutes: date.getMinutes(),
    seconds: date.getSeconds(),
    milliseconds: date.getMilliseconds(),
  }),
  make: (year, month, day, hours = 0, minutes = 0, seconds = 0, ms = 0) => {
    const date = new Date(2000, 0, 1);
    date.setFullYear(year, month, day);
    date.setHours(hours, minutes, seconds, ms);
    return date;
  },
  startOfHour: (date) => {
    const copy = new Date(date.getTime());
    copy.setMinutes(0, 0, 0);
    return copy;
  },
};

const HOUR_MS = 3_600_000;

const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
};

/** Month names and abbreviations → month index (0 = January). Shared with date cues. */
export const MONTHS: Record<string, number> = {
  january: 0,
  jan: 0,
  february: 1,
  feb: 1,
  march: 2,
  mar: 2,
  april: 3,
  apr: 3,
  may: 4,
  june: 5,
  jun: 5,
  july: 6,
  jul: 6,
  august: 7,
  aug: 7,
  september: 8,
  sept: 8,
  sep: 8,
  october: 9,
  oct: 9,
  november: 10,
  nov: 10,
  december: 11,
  dec: 11,
};

const WEEKDAYS: Record<string, number> = {
  sunday: 0,
  sun: 0,
  monday: 1,
  mon: 1,
  tuesday: 2,
  tues: 2,
  tue: 2,
  wednesday: 3,
  wed: 3,
  thursday: 4,
  thurs: 4,
  thur: 4,
  thu: 4,
  friday: 5,
  fri: 5,
  saturday: 6,
  sat: 6,
};

const NUMBER = `(\\d{1,6}|${Object.keys(NUMBER_WORDS).join('|')})`;
const UNIT = '(hour|day|week|month|year)s?';
const MONTH = `(${Object.keys(MONTHS).join('|')})\\.?`;
const WEEKDAY = `(${Object.keys(WEEKDAYS).join('|')})`;
const DAY = '(\\d{1,2})(?:st|nd|rd|th)?';

const patterns = {
  thisUnit: /^(?:this|current) (week|month|year)$/,
  lastUnit: /^(?:last|previous) (week|month|year)$/,
  rolling: new RegExp(`^(?:last|past|previous) ${NUMBER} ${UNIT}$`),
  rollingOne: /^(?:past (hour|day|week|month|year)|last (hour|day))$/,
  ago: new RegExp(`^(${NUMBER.slice(1, -1)}|an?) ${UNIT} ago$`),
  weekday: new RegExp(`^(?:last )?${WEEKDAY}$`),
  month: new RegExp(`^${MONTH}$`),
  monthYear: new RegExp(`^${MONTH} (\\d{4})$`),
  monthDay: new RegExp(`^${MONTH} ${DAY}(?: (\\d{4}))?$`),
  dayMonth: new RegExp(`^${DAY} (?:of )?${MONTH}(?: (\\d{4}))?$`),
  isoYear: /^(\d{4})$/,
  isoMonth: /^(\d{4})-(\d{2})$/,
  isoDay: /^(\d{4})-(\d{2})-(\d{2})$/,
  isoTimestamp: /^(\d{4})-(\d{2})-(\d{2})[t ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(z|[+-]\d{2}(?::?\d{2})?)?$/,
  leadIn: /^(?:in|during|within|on|over) /,
  article: /^the /,
};

function normalize(expression: string): string {
  return expression.toLowerCase().replace(/,/g, ' ').replace(/\s+/g, ' ').trim();
}

function quote(input: string): string {
  return JSON.stringify(input.length > 80 ? `${input.slice(0, 80)}…` : input);
}

function invalid(context: Context, detail?: string): ValidationError {
  const reason = detail ? `: ${detail}` : '';
  return new ValidationError([
    {
      field: 'time',
      message: `cannot parse ${quote(context.input)} as a time window${reason}. Accepted forms: ${ACCEPTED_FORMS}`,
    },
  ]);
}

function checked(context: Context, window: TimeWindow): TimeWindow {
  for (const bound of [window.after, window.before]) {
    if (bound && Number.isNaN(bound.getTime())) throw invalid(context, 'the date is out of range');
  }
  return window;
}

function parseExpression(context: Context, text: string): TimeWindow {
  const between = /^between (.+)$/.exec(text);
  if (between?.[1] !== undefined) return parseRange(context, between[1], [' and ', ' & ']);

  const from = /^from (.+)$/.exec(text);
  if (from?.[1] !== undefined) {
    const rest = from[1];
    if (![' to ', ' until ', ' till ', ' through ', ' - '].some((separator) => rest.includes(separator))) {
      throw invalid(context, 'a bare "from X" is ambiguous; write "since X" for X onwards, or just "X" for that period');
    }
    return parseRange(context, rest, [' to ', ' until ', ' till ', ' through ', ' - ']);
  }

  const bound = /^(since|after|before|until|till|through) (.+)$/.exec(text);
  if (bound?.[1] !== undefined && bound[2] !== undefined) {
    const span = requireSpan(context, bound[2]);
    switch (bound[1]) {
      case 'since':
      case 'after':
        return { after: span.start };
      case 'before':
        return { before: span.start };
      default:
        return { before: span.end };
    }
  }

  const span = requireSpan(context, text);
  if (span.start.getTime() === span.end.getTime()) return { after: span.start };
  return { after: span.start, before: span.end };
}

/** `X <separator> Y` → `[start of X, end of Y)`. Tries every split point; the first that parses wins. */
function parseRange(context: Context, text: string, separators: string[]): TimeWindow {
  for (const separator of separators) {
    let index = text.indexOf(separator);
    while (index > 0) {
      const left = parseSpan(context, text.slice(0, index));
      const right = left && parseSpan(context, text.slice(index + separator.length));
      if (left && right) {
        if (left.start.getTime() >= right.end.getTime()) {
          throw invalid(context, 'the start of the range is not before its end');
        }
        return { after: left.start, before: right.end };
      }
      index = text.indexOf(separator, index + 1);
    }
  }
  throw invalid(context);
}

function requireSpan(context: Context, text: string): Span {
  const span = parseSpan(context, text);
  if (!span) throw invalid(context);
  return span;
}

function toNumber(context: Context, token: string): number {
  const value = token === 'a' || token === 'an' ? 1 : (NUMBER_WORDS[token] ?? Number.parseInt(token, 10));
  if (!Number.isSafeInteger(value) || value < 1) throw invalid(context, 'the count must be at least 1');
  return value;
}

/** Parses a period or an instant; `null` when the text is not one (throws for a recognised but impossible date). */
function parseSpan(context: Context, raw: string): Span | null {
  const text = raw.trim().replace(patterns.leadIn, '').replace(patterns.article, '');
  const { calendar, now } = context;
  const today = calendar.parts(now);

  if (text === 'today') return calendarUnit(context, 'day', 0);
  if (text === 'yesterday') return calendarUnit(context, 'day', 1);

  let match = patterns.thisUnit.exec(text);
  if (match?.[1]) return calendarUnit(context, match[1] as Unit, 0);

  match = patterns.lastUnit.exec(text);
  if (match?.[1]) return calendarUnit(context, match[1] as Unit, 1);

  match = patterns.rolling.exec(text);
  if (match?.[1] && match[2]) return rolling(context, match[2] as Unit, toNumber(context, match[1]));

  match = patterns.rollingOne.exec(text);
  if (match) {
    const unit = match[1] ?? match[2];
    if (unit) return rolling(context, unit as Unit, 1);
  }

  match = patterns.ago.exec(text);
  if (match?.[1] && match[2]) return calendarUnit(context, match[2] as Unit, toNumber(context, match[1]));

  match = patterns.weekday.exec(text);
  if (match?.[1]) {
    const weekday = WEEKDAYS[match[1]] ?? 0;
    const back = (today.weekday - weekday + 7) % 7 || 7;
    return calendarUnit(context, 'day', back);
  }

  match = patterns.month.exec(text);
  if (match?.[1]) {
    const month = MONTHS[match[1]] ?? 0;
    const year = calendar.make(today.year, month, 1).getTime() <= now.getTime() ? today.year : today.year - 1;
    return monthSpan(context, year, month);
  }

  match = patterns.monthYear.exec(text);
  if (match?.[1] && match[2]) return monthSpan(context, Number(match[2]), MONTHS[match[1]] ?? 0);

  match = patterns.monthDay.exec(text);
  if (match?.[1] && match[2]) return daySpan(context, MONTHS[match[1]] ?? 0, Number(match[2]), match[3]);

  match = patterns.dayMonth.exec(text);
  if (match?.[1] && match[2]) return daySpan(context, MONTHS[match[2]] ?? 0, Number(match[1]), match[3]);

  match = patterns.isoYear.exec(text);
  if (match?.[1]) {
    const year = Number(match[1]);
    return { start: calendar.make(year, 0, 1), end: calendar.make(year + 1, 0, 1) };
  }

  match = patterns.isoMonth.exec(text);
  if (match?.[1] && match[2]) {
    const month = Number(match[2]);
    if (month < 1 || month > 12) throw invalid(context, `${quote(text)} is not a valid month`);
    return monthSpan(context, Number(match[1]), month - 1);
  }

  match = patterns.isoDay.exec(text);
  if (match?.[1] && match[2] && match[3]) {
    const month = Number(match[2]);
    if (month < 1 || month > 12) throw invalid(context, `${quote(text)} is not a valid date`);
    return daySpan(context, month - 1, Number(match[3]), match[1]);
  }

  match = patterns.isoTimestamp.exec(text);
  if (match?.[1] && match[2] && match[3] && match[4] && match[5]) {
    const instant = parseTimestamp(context, text, match);
    return { start: instant, end: instant };
  }

  return null;
}

/** The whole calendar unit `offset` units before the current one. */
function calendarUnit(context: Context, unit: Unit, offset: number): Span {
  const { calendar, now } = context;
  const { year, month, day, weekday } = calendar.parts(now);
  switch (unit) {
    case 'hour': {
      const start = new Date(calendar.startOfHour(now).getTime() - offset * HOUR_MS);
      return { start, end: new Date(start.getTime() + HOUR_MS) };
    }
    case 'day':
      return { start: calendar.make(year, month, day - offset), end: calendar.make(year, month, day - offset + 1) };
    case 'week': {
      const first = day - ((weekday - context.weekStartsOn + 7) % 7) - 7 * offset;
      return { start: calendar.make(year, month, first), end: calendar.make(year, month, first + 7) };
    }
    case 'month':
      return { start: calendar.make(year, month - offset, 1), end: calendar.make(year, month - offset + 1, 1) };
    case 'year':
      return { start: calendar.make(year - offset, 0, 1), end: calendar.make(year - offset + 1, 0, 1) };
  }
}

/** `[now - count units, now)`, stepping by calendar days/months (same wall-clock time, day clamped to the month). */
function rolling(context: Context, unit: Unit, count: number): Span {
  const { calendar, now } = context;
  const p = calendar.parts(now);
  const at = (year: number, month: number, day: number) => calendar.make(year, month, day, p.hours, p.minutes, p.seconds, p.milliseconds);
  let start: Date;
  switch (unit) {
    case 'hour':
      start = new Date(now.getTime() - count * HOUR_MS);
      break;
    case 'day':
    case 'week':
      start = at(p.year, p.month, p.day - count * (unit === 'week' ? 7 : 1));
      break;
    case 'month':
    case 'year': {
      const total = p.year * 12 + p.month - count * (unit === 'year' ? 12 : 1);
      const year = Math.floor(total / 12);
      const month = total - year * 12;
      start = at(year, month, Math.min(p.day, daysInMonth(year, month)));
      break;
    }
  }
  return { start, end: now };
}

function monthSpan(context: Context, year: number, month: number): Span {
  return { start: context.calendar.make(year, month, 1), end: context.calendar.make(year, month + 1, 1) };
}

/** A given day; without a year, the most recent year in which that day exists and has started. */
function daySpan(context: Context, month: number, day: number, yearText: string | undefined): Span {
  const { calendar, now } = context;
  const dayOf = (year: number): Span => ({ start: calendar.make(year, month, day), end: calendar.make(year, month, day + 1) });
  if (day < 1 || day > daysInMonth(2000, month)) throw invalid(context, `day ${day} does not exist in that month`);
  if (yearText !== undefined) {
    const year = Number(yearText);
    if (day > daysInMonth(year, month)) throw invalid(context, `day ${day} does not exist in that month of ${year}`);
    return dayOf(year);
  }
  // At most 8 years back (Feb 29 can skip 7 years, e.g. 2097 → 2104).
  const current = calendar.parts(now).year;
  for (let year = current; year >= current - 8; year--) {
    if (day <= daysInMonth(year, month) && calendar.make(year, month, day).getTime() <= now.getTime()) return dayOf(year);
  }
  throw invalid(context, 'no such day in recent years');
}

function parseTimestamp(context: Context, text: string, match: RegExpExecArray): Date {
  const [, yearText = '', monthText = '', dayText = '', hourText = '', minuteText = '', secondText, fraction, zone] = match;
  const year = Number(yearText);
  const month = Number(monthText) - 1;
  const day = Number(dayText);
  const hours = Number(hourText);
  const minutes = Number(minuteText);
  const seconds = secondText === undefined ? 0 : Number(secondText);
  const ms = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  if (month < 0 || month > 11 || day < 1 || day > daysInMonth(year, month) || hours > 23 || minutes > 59 || seconds > 59) {
    throw invalid(context, `${quote(text)} is not a valid timestamp`);
  }
  if (zone === undefined) return context.calendar.make(year, month, day, hours, minutes, seconds, ms);
  const utc = utcCalendar.make(year, month, day, hours, minutes, seconds, ms);
  if (zone === 'z') return utc;
  const offset = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  const offsetHours = Number(offset?.[2] ?? '0');
  const offsetMinutes = Number(offset?.[3] ?? '0');
  if (offsetHours > 23 || offsetMinutes > 59) throw invalid(context, `${quote(text)} has an invalid UTC offset`);
  const sign = offset?.[1] === '-' ? -1 : 1;
  return new Date(utc.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month] ?? 31;
}

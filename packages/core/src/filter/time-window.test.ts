import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../model/errors.js';
import { type ParseTimeWindowOptions, parseTimeWindow } from './time-window.js';

/** Saturday 2026-11-21, 15:30 UTC. */
const NOW = new Date('2026-11-21T15:30:00.000Z');
const NOW_ISO = NOW.toISOString();

type Row = [expression: string, after: string | undefined, before: string | undefined];

function iso(date: Date | undefined): string | undefined {
  return date?.toISOString();
}

/** Bounds as ISO strings; date-only strings mean UTC midnight. */
function expand(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return new Date(value.length === 10 ? `${value}T00:00:00.000Z` : value).toISOString();
}

function check(rows: Row[], options: ParseTimeWindowOptions) {
  it.each(rows)('%s', (expression, after, before) => {
    const window = parseTimeWindow(expression, options);
    expect({ after: iso(window.after), before: iso(window.before) }).toEqual({ after: expand(after), before: expand(before) });
    // Never an empty window.
    expect(window.after !== undefined || window.before !== undefined).toBe(true);
    if (window.after && window.before) expect(window.after.getTime()).toBeLessThan(window.before.getTime());
  });
}

describe('parseTimeWindow (now = Saturday 2026-11-21T15:30Z, UTC, week starts Monday)', () => {
  describe('days', () => {
    check(
      [
        ['today', '2026-11-21', '2026-11-22'],
        ['yesterday', '2026-11-20', '2026-11-21'],
        ['  TODAY ', '2026-11-21', '2026-11-22'],
        ['Yesterday', '2026-11-20', '2026-11-21'],
      ],
      { now: NOW },
    );
  });

  describe('this / last calendar unit', () => {
    check(
      [
        ['this week', '2026-11-16', '2026-11-23'],
        ['this month', '2026-11-01', '2026-12-01'],
        ['this year', '2026-01-01', '2027-01-01'],
        ['current month', '2026-11-01', '2026-12-01'],
        ['last week', '2026-11-09', '2026-11-16'],
        ['last month', '2026-10-01', '2026-11-01'],
        ['last year', '2025-01-01', '2026-01-01'],
        ['previous month', '2026-10-01', '2026-11-01'],
        ['  LAST    Month  ', '2026-10-01', '2026-11-01'],
        ['in last week', '2026-11-09', '2026-11-16'],
        ['during this year', '2026-01-01', '2027-01-01'],
      ],
      { now: NOW },
    );
  });

  describe('rolling windows ending now', () => {
    check(
      [
        ['last 3 days', '2026-11-18T15:30:00Z', NOW_ISO],
        ['past 3 days', '2026-11-18T15:30:00Z', NOW_ISO],
        ['previous 3 days', '2026-11-18T15:30:00Z', NOW_ISO],
        ['the last 3 days', '2026-11-18T15:30:00Z', NOW_ISO],
        ['in the past three days', '2026-11-18T15:30:00Z', NOW_ISO],
        ['within the last 3 days', '2026-11-18T15:30:00Z', NOW_ISO],
        ['last 2 weeks', '2026-11-07T15:30:00Z', NOW_ISO],
        ['last 3 months', '2026-08-21T15:30:00Z', NOW_ISO],
        ['last 2 years', '2024-11-21T15:30:00Z', NOW_ISO],
        ['last 24 hours', '2026-11-20T15:30:00Z', NOW_ISO],
        ['last 90 days', '2026-08-23T15:30:00Z', NOW_ISO],
        ['last 1 week', '2026-11-14T15:30:00Z', NOW_ISO],
        ['last 1 days', '2026-11-20T15:30:00Z', NOW_ISO],
        ['past 11 months', '2025-12-21T15:30:00Z', NOW_ISO],
        ['past twelve months', '2025-11-21T15:30:00Z', NOW_ISO],
        ['last day', '2026-11-20T15:30:00Z', NOW_ISO],
        ['last hour', '2026-11-21T14:30:00Z', NOW_ISO],
        ['past hour', '2026-11-21T14:30:00Z', NOW_ISO],
        ['past day', '2026-11-20T15:30:00Z', NOW_ISO],
        ['past week', '2026-11-14T15:30:00Z', NOW_ISO],
        ['past month', '2026-10-21T15:30:00Z', NOW_ISO],
        ['past year', '2025-11-21T15:30:00Z', NOW_ISO],
      ],
      { now: NOW },
    );
  });

  describe('number words', () => {
    const words = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
    it.each(words.map((word, index) => [word, index + 1] as const))('%s = %d', (word, count) => {
      expect(parseTimeWindow(`last ${word} days`, { now: NOW })).toEqual(parseTimeWindow(`last ${count} days`, { now: NOW }));
      expect(parseTimeWindow(`${word} weeks ago`, { now: NOW })).toEqual(parseTimeWindow(`${count} weeks ago`, { now: NOW }));
      expect(parseTimeWindow(`Past ${word.toUpperCase()} Months`, { now: NOW })).toEqual(
        parseTimeWindow(`past ${count} months`, { now: NOW }),
      );
    });
  });

  describe('N units ago (the whole calendar unit)', () => {
    check(
      [
        ['3 days ago', '2026-11-18', '2026-11-19'],
        ['1 day ago', '2026-11-20', '2026-11-21'],
        ['a day ago', '2026-11-20', '2026-11-21'],
        ['three days ago', '2026-11-18', '2026-11-19'],
        ['21 days ago', '2026-10-31', '2026-11-01'],
        ['a week ago', '2026-11-09', '2026-11-16'],
        ['2 weeks ago', '2026-11-02', '2026-11-09'],
        ['1 month ago', '2026-10-01', '2026-11-01'],
        ['11 months ago', '2025-12-01', '2026-01-01'],
        ['twelve months ago', '2025-11-01', '2025-12-01'],
        ['2 years ago', '2024-01-01', '2025-01-01'],
        ['an hour ago', '2026-11-21T14:00:00Z', '2026-11-21T15:00:00Z'],
        ['3 hours ago', '2026-11-21T12:00:00Z', '2026-11-21T13:00:00Z'],
      ],
      { now: NOW },
    );
  });

  describe('weekdays (the most recent such day before today)', () => {
    check(
      [
        ['monday', '2026-11-16', '2026-11-17'],
        ['last monday', '2026-11-16', '2026-11-17'],
        ['on friday', '2026-11-20', '2026-11-21'],
        ['fri', '2026-11-20', '2026-11-21'],
        ['sunday', '2026-11-15', '2026-11-16'],
        ['saturday', '2026-11-14', '2026-11-15'],
        ['last sat', '2026-11-14', '2026-11-15'],
      ],
      { now: NOW },
    );
  });

  describe('month names', () => {
    check(
      [
        ['march', '2026-03-01', '2026-04-01'],
        ['in march', '2026-03-01', '2026-04-01'],
        ['MARCH', '2026-03-01', '2026-04-01'],
        ['mar', '2026-03-01', '2026-04-01'],
        ['mar.', '2026-03-01', '2026-04-01'],
        ['november', '2026-11-01', '2026-12-01'],
        ['december', '2025-12-01', '2026-01-01'],
        ['dec', '2025-12-01', '2026-01-01'],
        ['sept', '2026-09-01', '2026-10-01'],
        ['march 2024', '2024-03-01', '2024-04-01'],
        ['mar 2024', '2024-03-01', '2024-04-01'],
        ['in december 2025', '2025-12-01', '2026-01-01'],
        ['february 2024', '2024-02-01', '2024-03-01'],
        ['feb 2023', '2023-02-01', '2023-03-01'],
        ['march 5', '2026-03-05', '2026-03-06'],
        ['march 5th', '2026-03-05', '2026-03-06'],
        ['5 march', '2026-03-05', '2026-03-06'],
        ['the 5th of march', '2026-03-05', '2026-03-06'],
        ['on march 5', '2026-03-05', '2026-03-06'],
        ['march 5, 2024', '2024-03-05', '2024-03-06'],
        ['5 march 2024', '2024-03-05', '2024-03-06'],
        ['november 21', '2026-11-21', '2026-11-22'],
        ['november 22', '2025-11-22', '2025-11-23'],
        ['dec 25', '2025-12-25', '2025-12-26'],
        ['feb 29', '2024-02-29', '2024-03-01'],
        ['feb 29 2024', '2024-02-29', '2024-03-01'],
      ],
      { now: NOW },
    );
  });

  describe('ISO dates and timestamps', () => {
    check(
      [
        ['2024', '2024-01-01', '2025-01-01'],
        ['in 2024', '2024-01-01', '2025-01-01'],
        ['2024-03', '2024-03-01', '2024-04-01'],
        ['2024-12', '2024-12-01', '2025-01-01'],
        ['2024-03-05', '2024-03-05', '2024-03-06'],
        ['2024-02-29', '2024-02-29', '2024-03-01'],
        ['2000-02-29', '2000-02-29', '2000-03-01'],
        ['2024-12-31', '2024-12-31', '2025-01-01'],
        ['0050-06-01', '0050-06-01', '0050-06-02'],
        ['2024-03-05T10:00:00Z', '2024-03-05T10:00:00Z', undefined],
        ['2024-03-05t10:00z', '2024-03-05T10:00:00Z', undefined],
        ['2024-03-05 10:00', '2024-03-05T10:00:00Z', undefined],
        ['2024-03-05T10:00:00.123+02:00', '2024-03-05T08:00:00.123Z', undefined],
        ['2024-03-05T10:00-0530', '2024-03-05T15:30:00Z', undefined],
        ['2024-03-05T10:00:30.5', '2024-03-05T10:00:30.500Z', undefined],
      ],
      { now: NOW },
    );
  });

  describe('since / after / before / until', () => {
    check(
      [
        ['since march 2024', '2024-03-01', undefined],
        ['after march 2024', '2024-03-01', undefined],
        ['since yesterday', '2026-11-20', undefined],
        ['since last week', '2026-11-09', undefined],
        ['since 3 days ago', '2026-11-18', undefined],
        ['Since\tMarch', '2026-03-01', undefined],
        ['since 2024-03-05T10:00Z', '2024-03-05T10:00:00Z', undefined],
        ['before 2024', undefined, '2024-01-01'],
        ['before march 2024', undefined, '2024-03-01'],
        ['before yesterday', undefined, '2026-11-20'],
        ['until 2024', undefined, '2025-01-01'],
        ['until yesterday', undefined, '2026-11-21'],
        ['till march 2024', undefined, '2024-04-01'],
        ['through 2024-03-05', undefined, '2024-03-06'],
        ['until 2024-03-05T10:00Z', undefined, '2024-03-05T10:00:00Z'],
        ['before last 3 days', undefined, '2026-11-18T15:30:00Z'],
      ],
      { now: NOW },
    );
  });

  describe('ranges', () => {
    check(
      [
        ['between march 2024 and may 2024', '2024-03-01', '2024-06-01'],
        ['from 2024-03-05 to 2024-03-07', '2024-03-05', '2024-03-08'],
        ['from jan 2024 until march 2024', '2024-01-01', '2024-04-01'],
        ['from 2024 through 2025', '2024-01-01', '2026-01-01'],
        ['between last week and yesterday', '2026-11-09', '2026-11-21'],
        ['between 2024 and 2024', '2024-01-01', '2025-01-01'],
        ['between 2024-03-05T10:00Z and 2024-03-05T12:00Z', '2024-03-05T10:00:00Z', '2024-03-05T12:00:00Z'],
        ['between march 5, 2024 and march 7, 2024', '2024-03-05', '2024-03-08'],
        ['BETWEEN  2024-03-10   AND  march 2024', '2024-03-10', '2024-04-01'],
        ['from 3 days ago to today', '2026-11-18', '2026-11-22'],
      ],
      { now: NOW },
    );
  });
});

describe('week start', () => {
  const sunday = new Date('2026-11-22T10:00:00Z');
  describe('weekStartsOn: 0 (Sunday), now = Saturday', () => {
    check(
      [
        ['this week', '2026-11-15', '2026-11-22'],
        ['last week', '2026-11-08', '2026-11-15'],
        ['2 weeks ago', '2026-11-01', '2026-11-08'],
        ['since this week', '2026-11-15', undefined],
      ],
      { now: NOW, weekStartsOn: 0 },
    );
  });
  describe('weekStartsOn: 1 (Monday), now = Sunday', () => {
    check(
      [
        ['this week', '2026-11-16', '2026-11-23'],
        ['last week', '2026-11-09', '2026-11-16'],
      ],
      { now: sunday, weekStartsOn: 1 },
    );
  });
  describe('weekStartsOn: 0 (Sunday), now = Sunday', () => {
    check(
      [
        ['this week', '2026-11-22', '2026-11-29'],
        ['last week', '2026-11-15', '2026-11-22'],
        ['sunday', '2026-11-15', '2026-11-16'],
      ],
      { now: sunday, weekStartsOn: 0 },
    );
  });
  it('defaults to Monday', () => {
    expect(parseTimeWindow('this week', { now: NOW })).toEqual(parseTimeWindow('this week', { now: NOW, weekStartsOn: 1 }));
  });
});

describe('rollovers', () => {
  describe('in January (now = Thursday 2026-01-15T08:00Z)', () => {
    check(
      [
        ['last month', '2025-12-01', '2026-01-01'],
        ['last year', '2025-01-01', '2026-01-01'],
        ['this week', '2026-01-12', '2026-01-19'],
        ['last week', '2026-01-05', '2026-01-12'],
        ['2 weeks ago', '2025-12-29', '2026-01-05'],
        ['1 month ago', '2025-12-01', '2026-01-01'],
        ['13 months ago', '2024-12-01', '2025-01-01'],
        ['last 1 month', '2025-12-15T08:00:00Z', '2026-01-15T08:00:00Z'],
        ['last 20 days', '2025-12-26T08:00:00Z', '2026-01-15T08:00:00Z'],
        ['december', '2025-12-01', '2026-01-01'],
        ['march', '2025-03-01', '2025-04-01'],
        ['january', '2026-01-01', '2026-02-01'],
      ],
      { now: new Date('2026-01-15T08:00:00Z') },
    );
  });
  describe('on New Year (now = 2026-01-01T00:00Z)', () => {
    check(
      [
        ['yesterday', '2025-12-31', '2026-01-01'],
        ['today', '2026-01-01', '2026-01-02'],
        ['this year', '2026-01-01', '2027-01-01'],
        ['january', '2026-01-01', '2026-02-01'],
      ],
      { now: new Date('2026-01-01T00:00:00Z') },
    );
  });
  describe('leap year (now = 2024-03-01T12:00Z)', () => {
    check(
      [
        ['yesterday', '2024-02-29', '2024-03-01'],
        ['2 days ago', '2024-02-28', '2024-02-29'],
        ['last month', '2024-02-01', '2024-03-01'],
        ['last 2 days', '2024-02-28T12:00:00Z', '2024-03-01T12:00:00Z'],
        ['feb 29', '2024-02-29', '2024-03-01'],
      ],
      { now: new Date('2024-03-01T12:00:00Z') },
    );
  });
  describe('non-leap year (now = 2023-03-01T12:00Z)', () => {
    check(
      [
        ['yesterday', '2023-02-28', '2023-03-01'],
        ['last month', '2023-02-01', '2023-03-01'],
        ['feb 29', '2020-02-29', '2020-03-01'],
      ],
      { now: new Date('2023-03-01T12:00:00Z') },
    );
  });
  describe('month-end clamping (now = 2024-03-31T12:00Z)', () => {
    check(
      [
        ['last 1 month', '2024-02-29T12:00:00Z', '2024-03-31T12:00:00Z'],
        ['last 13 months', '2023-02-28T12:00:00Z', '2024-03-31T12:00:00Z'],
        ['last 6 months', '2023-09-30T12:00:00Z', '2024-03-31T12:00:00Z'],
      ],
      { now: new Date('2024-03-31T12:00:00Z') },
    );
  });
  describe('Feb 29 minus years (now = 2024-02-29T12:00Z)', () => {
    check(
      [
        ['last 1 year', '2023-02-28T12:00:00Z', '2024-02-29T12:00:00Z'],
        ['last 4 years', '2020-02-29T12:00:00Z', '2024-02-29T12:00:00Z'],
        ['1 year ago', '2023-01-01', '2024-01-01'],
      ],
      { now: new Date('2024-02-29T12:00:00Z') },
    );
  });
});

describe("timeZone: 'local'", () => {
  const original = process.env.TZ;
  beforeEach(() => {
    process.env.TZ = 'America/New_York';
  });
  afterEach(() => {
    if (original === undefined) delete process.env.TZ;
    else process.env.TZ = original;
  });

  it('uses the process time zone for calendar boundaries', () => {
    // 2026-11-21T15:30Z is 10:30 EST (UTC-5); DST ended on 2026-11-01.
    expect(new Date('2026-11-21T15:30:00Z').getTimezoneOffset()).toBe(300);
    const local = (expression: string) => {
      const window = parseTimeWindow(expression, { now: NOW, timeZone: 'local' });
      return { after: iso(window.after), before: iso(window.before) };
    };
    expect(local('today')).toEqual({ after: '2026-11-21T05:00:00.000Z', before: '2026-11-22T05:00:00.000Z' });
    expect(local('last month')).toEqual({ after: '2026-10-01T04:00:00.000Z', before: '2026-11-01T04:00:00.000Z' });
    expect(local('this week')).toEqual({ after: '2026-11-16T05:00:00.000Z', before: '2026-11-23T05:00:00.000Z' });
    // Rolling windows keep the wall-clock time across the DST change (10:30 EDT = 14:30Z).
    expect(local('last 1 month')).toEqual({ after: '2026-10-21T14:30:00.000Z', before: NOW_ISO });
    expect(local('last 21 days')).toEqual({ after: '2026-10-31T14:30:00.000Z', before: NOW_ISO });
    expect(local('2024-03-05 10:00')).toEqual({ after: '2024-03-05T15:00:00.000Z', before: undefined });
    expect(local('2024-03-05T10:00Z')).toEqual({ after: '2024-03-05T10:00:00.000Z', before: undefined });
  });

  it('differs from UTC near midnight', () => {
    const lateEvening = new Date('2026-11-22T02:00:00Z'); // 21:00 EST on the 21st
    expect(iso(parseTimeWindow('today', { now: lateEvening, timeZone: 'local' }).after)).toBe('2026-11-21T05:00:00.000Z');
    expect(iso(parseTimeWindow('today', { now: lateEvening }).after)).toBe('2026-11-22T00:00:00.000Z');
  });
});

describe('defaults', () => {
  it('uses the current time when now is omitted', () => {
    const before = Date.now();
    const window = parseTimeWindow('today');
    expect(window.after?.getTime()).toBeLessThanOrEqual(before);
    expect(window.before?.getTime()).toBeGreaterThan(before);
  });

  it('returns dates that do not alias options.now', () => {
    const now = new Date(NOW.getTime());
    const window = parseTimeWindow('last 3 days', { now });
    window.before?.setTime(0);
    expect(now.toISOString()).toBe(NOW_ISO);
  });
});

describe('invalid input', () => {
  const garbage = [
    '',
    '   ',
    'next tuesday maybe',
    'last -3 days',
    'between march',
    '2024-13-01',
    'drop table',
    'drop table memories; --',
    'tomorrow',
    'next week',
    'last 0 days',
    '0 days ago',
    'last 1.5 days',
    'last thirteen days',
    '13 months',
    'days ago',
    'last week maybe',
    'this day',
    'from march',
    'since',
    'before',
    'between 2025 and 2024',
    'from 2024-03-07 to 2024-03-05',
    'between today and last week',
    'between 2024-03-05T12:00Z and 2024-03-05T10:00Z',
    'between march 2024 and',
    '2023-02-29',
    '1900-02-29',
    '2024-00',
    '2024-04-31',
    'feb 30',
    'march 32',
    'april 31 2024',
    '2024-03-05T24:00Z',
    '2024-03-05T10:60',
    '2024-03-05T10:00+25:00',
    '24',
    '20245',
    'march 24 2024 2025',
    'last 999999 years',
    'since since march',
    'the',
    'in',
  ];

  it.each(garbage)('%j throws a ValidationError on field "time"', (expression) => {
    let caught: unknown;
    try {
      parseTimeWindow(expression, { now: NOW });
    } catch (error) {
      caught = error;
    }
    expect(ValidationError.isInstance(caught)).toBe(true);
    const error = caught as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe('time');
    expect(error.issues).toHaveLength(1);
    expect(error.message).toContain(JSON.stringify(expression));
    expect(error.message).toContain('Accepted forms: today, yesterday');
  });

  it('explains a reversed range', () => {
    expect(() => parseTimeWindow('between 2025 and 2024', { now: NOW })).toThrow(/start of the range is not before its end/);
  });

  it('explains an impossible date', () => {
    expect(() => parseTimeWindow('2024-13-01', { now: NOW })).toThrow(/not a valid date/);
  });

  it('explains a bare "from"', () => {
    expect(() => parseTimeWindow('from march', { now: NOW })).toThrow(/since X/);
  });

  it('truncates very long input in the message', () => {
    const long = `x${'a'.repeat(500)}`;
    expect(() => parseTimeWindow(long, { now: NOW })).toThrow(/"xa{79}…"/);
  });

  it('rejects a non-string expression', () => {
    expect(() => parseTimeWindow(42 as unknown as string, { now: NOW })).toThrow(ValidationError);
  });

  it('rejects invalid options', () => {
    expect(() => parseTimeWindow('today', { now: new Date(Number.NaN) })).toThrow(/now/);
    expect(() => parseTimeWindow('today', { now: NOW, weekStartsOn: 3 as 0 })).toThrow(/weekStartsOn/);
    expect(() => parseTimeWindow('today', { now: NOW, timeZone: 'mars' as 'utc' })).toThrow(/timeZone/);
  });
});

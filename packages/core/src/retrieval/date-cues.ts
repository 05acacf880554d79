import { MONTHS } from '../filter/time-window.js';
/**
 * A calendar period a query names: a year, a month (of a given year or of any year) or a day.
 * Fields left out match anything ("in June" matches every June).
 */
export interface DateCue {
  /** The text that named it, e.g. "October 13, 2023". */
  text: string;
  year?: number;
  /** 0–11. */
  month?: number;
  /** 1–31. */
  day?: number;
}

const month =
  '(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\\.?';
const day = '(\\d{1,2})(?:st|nd|rd|th)?';
const year = '((?:19|20)\\d\\d)';
/** Tried in order; each match is blanked out so a shorter form cannot match inside a longer one. */
const PATTERNS: Array<{ pattern: RegExp; read: (match: RegExpExecArray) => Omit<DateCue, 'text'> }> = [
  // 2023-10-13
  { pattern: /\b((?:19|20)\d\d)-(\d{2})-(\d{2})\b/g, read: (m) => ({ year: Number(m[1]), month: Number(m[2]) - 1, day: Number(m[3]) }) },
  // 13 October 2023, 13th of October, 2023
  {
    pattern: new RegExp(`\\b${day}\\s+(?:of\\s+)?${month},?\\s+${year}\\b`, 'gi'),
    read: (m) => ({ day: Number(m[1]), month: monthOf(m[2]), year: Number(m[3]) }),
  },
  // October 13, 2023
  {
    pattern: new RegExp(`\\b${month}\\s+${day},?\\s+${year}\\b`, 'gi'),
    read: (m) => ({ month: monthOf(m[1]), day: Number(m[2]), year: Number(m[3]) }),
  },
  // October 2023, 2023-10
  { pattern: new RegExp(`\\b${month},?\\s+${year}\\b`, 'gi'), read: (m) => ({ month: monthOf(m[1]), year: Number(m[2]) }) },
  { pattern: /\b((?:19|20)\d\d)-(\d{2})\b/g, read: (m) => ({ year: Number(m[1]), month: Number(m[2]) - 1 }) },
  // 13 October, October 13th (any year)
  { pattern: new RegExp(`\\b${day}\\s+(?:of\\s+)?${month}\\b`, 'gi'), read: (m) => ({ day: Number(m[1]), month: monthOf(m[2]) }) },
  { pattern: new RegExp(`\\b${month}\\s+${day}\\b`, 'gi'), read: (m) => ({ month: monthOf(m[1]), day: Number(m[2]) }) },
  // in June, during March, last October (a bare month name after a time preposition: "may" alone is a verb)
  {
    pattern: new RegExp(`\\b(?:in|during|since|until|by|of|last|this|early|late|mid|mid-)\\s+${month}\\b`, 'gi'),
    read: (m) => ({ month: monthOf(m[1]) }),
  },
  // in 2023, 2022
  { pattern: new RegExp(`\\b${year}\\b`, 'g'), read: (m) => ({ year: Number(m[1]) }) },
];

function monthOf(name: string | undefined): number {
  return MONTHS[(name ?? '').toLowerCase().replace('.', '')] ?? -1;
}

/**
 * The calendar periods an English query names ("on October 13, 2023", "in May 2023", "in June",
 * "2022", "2023-10-13"). Relative expressions ("last week") are left to the `time` filter: they
 * need a reference instant, and a query's "yesterday" rarely means the day before the search.
 */
export function findDateCues(query: string): DateCue[] {
  let text = query;
  const cues: DateCue[] = [];
  for (const { pattern, read } of PATTERNS) {
    pattern.lastIndex = 0;
    text = text.replace(pattern, (...args: unknown[]) => {
      const match = args.slice(0, -2) as unknown as RegExpExecArray;
      const cue = read(match);
      const valid =
        (cue.month === undefined || (cue.month >= 0 && cue.month <= 11)) && (cue.day === undefined || (cue.day >= 1 && cue.day <= 31));
      if (valid) cues.push({ text: (match[0] as string).trim(), ...cue });
      return ' '.repeat((match[0] as string).length);
    });
  }
  return cues;
}

const DAY_MS = 86_400_000;

/**
 * Whether a memory created at `time` falls in the period (UTC calendar). A day also matches the
 * day before and after it: time zones, and a day recorded when the memory was written down.
 */
export function matchesDateCue(cue: DateCue, time: Date): boolean {
  if (cue.day === undefined) {
    return (cue.year === undefined || time.getUTCFullYear() === cue.year) && (cue.month === undefined || time.getUTCMonth() === cue.month);
  }
  for (const shift of [0, -DAY_MS, DAY_MS]) {
    const shifted = new Date(time.getTime() + shift);
    if (
      shifted.getUTCDate() === cue.day &&
      (cue.month === undefined || shifted.getUTCMonth() === cue.month) &&
      (cue.year === undefined || shifted.getUTCFullYear() === cue.year)
    ) {
      return true;
    }
  }
  return false;
}

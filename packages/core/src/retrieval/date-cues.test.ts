import { describe, expect, it } from 'vitest';
import { findDateCues, matchesDateCue } from './date-cues.js';

const utc = (year: number, month: number, day: number, hour = 12) => new Date(Date.UTC(year, month, day, hour));

describe('findDateCues', () => {
  it.for([
    ['What did she show on October 13, 2023?', { text: 'October 13, 2023', year: 2023, month: 9, day: 13 }],
    ['What did Gina find on 1 February, 2023?', { text: '1 February, 2023', year: 2023, month: 1, day: 1 }],
    ['and on the 5th of march 2024', { text: '5th of march 2024', year: 2024, month: 2, day: 5 }],
    ['deploy log 2024-03-05', { text: '2024-03-05', year: 2024, month: 2, day: 5 }],
    ['What setback did she face in October 2023?', { text: 'October 2023', year: 2023, month: 9 }],
    ['the 2024-03 release', { text: '2024-03', year: 2024, month: 2 }],
    ['When did Melanie go camping in June?', { text: 'in June', month: 5 }],
    ['what happened on Oct 13th', { text: 'Oct 13th', month: 9, day: 13 }],
    ['How many times has she gone to the beach in 2023?', { text: '2023', year: 2023 }],
  ])('%s', ([query, cue]) => {
    expect(findDateCues(query as string)).toEqual([cue]);
  });

  it('ignores "may" the verb, bare numbers and relative expressions', () => {
    expect(findDateCues('May I ask what you may know about 42 things from last week?')).toEqual([]);
  });

  it('finds several cues, each once', () => {
    expect(findDateCues('between March 2023 and 2024').map((cue) => cue.text)).toEqual(['March 2023', '2024']);
  });
});

describe('matchesDateCue', () => {
  it('matches a day with a day of slack either side', () => {
    const cue = { text: '', year: 2023, month: 9, day: 13 };
    expect(matchesDateCue(cue, utc(2023, 9, 13))).toBe(true);
    expect(matchesDateCue(cue, utc(2023, 9, 12))).toBe(true);
    expect(matchesDateCue(cue, utc(2023, 9, 14))).toBe(true);
    expect(matchesDateCue(cue, utc(2023, 9, 15))).toBe(false);
    expect(matchesDateCue(cue, utc(2022, 9, 13))).toBe(false);
  });

  it('matches months and years on the UTC calendar, any year when none is named', () => {
    expect(matchesDateCue({ text: '', month: 5 }, utc(2021, 5, 30))).toBe(true);
    expect(matchesDateCue({ text: '', month: 5 }, utc(2021, 6, 1))).toBe(false);
    expect(matchesDateCue({ text: '', year: 2023, month: 9 }, utc(2023, 9, 1, 0))).toBe(true);
    expect(matchesDateCue({ text: '', year: 2023 }, utc(2024, 0, 1, 0))).toBe(false);
  });
});

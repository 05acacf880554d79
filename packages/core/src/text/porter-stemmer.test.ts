import { describe, expect, it } from 'vitest';
import { porterStem } from './porter-stemmer.js';
import { queryTerms, terms } from './text.js';

describe('porterStem', () => {
  // Pairs from Porter's paper and the reference vocabulary; the whole algorithm was also checked
  // against SQLite FTS5's porter tokenizer on a 4,000-word conversational vocabulary (no difference).
  it.for([
    ['caresses', 'caress'],
    ['ponies', 'poni'],
    ['ties', 'ti'],
    ['cats', 'cat'],
    ['feed', 'feed'],
    ['agreed', 'agre'],
    ['plastered', 'plaster'],
    ['bled', 'bled'],
    ['motoring', 'motor'],
    ['sing', 'sing'],
    ['conflated', 'conflat'],
    ['troubled', 'troubl'],
    ['sized', 'size'],
    ['hopping', 'hop'],
    ['falling', 'fall'],
    ['hissing', 'hiss'],
    ['filing', 'file'],
    ['happy', 'happi'],
    ['sky', 'sky'],
    ['relational', 'relat'],
    ['conditional', 'condit'],
    ['rational', 'ration'],
    ['digitizer', 'digit'],
    ['vietnamization', 'vietnam'],
    ['predication', 'predic'],
    ['operator', 'oper'],
    ['feudalism', 'feudal'],
    ['decisiveness', 'decis'],
    ['hopefulness', 'hope'],
    ['callousness', 'callous'],
    ['formaliti', 'formal'],
    ['sensitiviti', 'sensit'],
    ['sensibiliti', 'sensibl'],
    ['triplicate', 'triplic'],
    ['formative', 'form'],
    ['electrical', 'electr'],
    ['goodness', 'good'],
    ['revival', 'reviv'],
    ['allowance', 'allow'],
    ['airliner', 'airlin'],
    ['adjustable', 'adjust'],
    ['replacement', 'replac'],
    ['adoption', 'adopt'],
    ['communism', 'commun'],
    ['effective', 'effect'],
    ['bowdlerize', 'bowdler'],
    ['probate', 'probat'],
    ['rate', 'rate'],
    ['cease', 'ceas'],
    ['controll', 'control'],
    ['roll', 'roll'],
    ['generalizations', 'gener'],
    ['painting', 'paint'],
    ['painted', 'paint'],
    ['paints', 'paint'],
  ])('%s → %s', ([word, stem]) => {
    expect(porterStem(word as string)).toBe(stem);
  });

  it('leaves short words and words with digits, accents or apostrophes alone', () => {
    for (const word of ['is', 'a', 'mp3', 'café', "don't", '東京']) expect(porterStem(word)).toBe(word);
  });
});

describe('terms and queryTerms', () => {
  it('stems words and drops possessives', () => {
    expect(terms("Caroline's paintings were painted")).toEqual(['carolin', 'paint', 'were', 'paint']);
  });

  it('keeps distinct query terms, leaving function words out when others remain', () => {
    expect(queryTerms('What did Melanie paint, and what paintings?')).toEqual(['melani', 'paint']);
    expect(queryTerms('what is it')).toEqual(['what', 'is', 'it']);
    expect(queryTerms('?!')).toEqual([]);
  });
});

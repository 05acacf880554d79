import type { Embedder } from './contracts/embedder.js';
import { ValidationError } from './errors.js';
import { words } from './text.js';

export interface HashEmbedderOptions {
  /** Vector size. Default 384. */
  dimensions?: number;
  /** Weights of the three feature kinds. Defaults: words 1, bigrams 0.5, character trigrams 0.25. */
  weights?: { words?: number; bigrams?: number; trigrams?: number };
}

/** Very common English words: they carry little meaning, so they count for less. */
const STOPWORDS = new Set(
  'a an and are as at be been but by did do does for from had has have he her his how i if in into is it its me my of on or our she so than that the their them then there these they this to was we were what when where which who why will with you your'.split(
    ' ',
  ),
);

/** FNV-1a, 32 bits. */
function fnv1a(text: string, seed: number): number {
  let hash = 0x811c9dc5 ^ seed;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * A deterministic, offline embedder: signed feature hashing of words, word bigrams and
 * character trigrams, with sublinear term weighting and L2 normalisation. It knows no
 * synonyms; it makes lexically similar texts close, needs no model and costs microseconds.
 * It is Engram's default when no neural model is available.
 */
export function hashEmbedder(options: HashEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? 384;
  if (!Number.isInteger(dimensions) || dimensions < 8 || dimensions > 8192) {
    throw new ValidationError([{ field: 'dimensions', message: 'must be an integer from 8 to 8192' }]);
  }
  const wordWeight = options.weights?.words ?? 1;
  const bigramWeight = options.weights?.bigrams ?? 0.5;
  const trigramWeight = options.weights?.trigrams ?? 0.25;
  const customWeights = options.weights ? `-w${wordWeight}-${bigramWeight}-${trigramWeight}` : '';

  const embedOne = (text: string): Float32Array => {
    const counts = new Map<string, number>();
    const bump = (feature: string, weight: number) => counts.set(feature, (counts.get(feature) ?? 0) + weight);
    const tokens = words(text);
    for (let index = 0; index < tokens.length; index++) {
      const token = tokens[index] as string;
      const stop = STOPWORDS.has(token);
      bump(`w:${token}`, stop ? wordWeight * 0.2 : wordWeight);
      const next = tokens[index + 1];
      if (next !== undefined) bump(`b:${token} ${next}`, bigramWeight);
      if (!stop && token.length > 2) {
        const padded = `^${token}$`;
        for (let start = 0; start + 3 <= padded.length; start++) bump(`t:${padded.slice(start, start + 3)}`, trigramWeight);
      }
    }
    const vector = new Float32Array(dimensions);
    for (const [feature, weight] of counts) {
      const hash = fnv1a(feature, 0);
      const sign = fnv1a(feature, 0x9e3779b9) & 1 ? 1 : -1;
      // Sublinear: a word said five times is not five times as meaningful.
      vector[hash % dimensions] = (vector[hash % dimensions] ?? 0) + sign * (1 + Math.log(weight > 1 ? weight : 1)) * Math.min(weight, 1);
    }
    let norm = 0;
    for (let index = 0; index < dimensions; index++) norm += (vector[index] ?? 0) ** 2;
    // Text with no word characters ("!!!") still gets a valid unit vector, never a zero one
    // (cosine distance to a zero vector is undefined).
    if (norm === 0) vector[0] = 1;
    else {
      const scale = 1 / Math.sqrt(norm);
      for (let index = 0; index < dimensions; index++) vector[index] = (vector[index] ?? 0) * scale;
    }
    return vector;
  };

  return {
    specificationVersion: 'v1',
    id: `hash-v1-${dimensions}${customWeights}`,
    dimensions,
    async embed(texts, embedOptions) {
      embedOptions?.signal?.throwIfAborted();
      return texts.map(embedOne);
    },
  };
}

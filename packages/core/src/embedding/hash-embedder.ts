import type { Embedder } from '../contracts/embedder.js';
import { ValidationError } from '../model/errors.js';
import { words } from '../text/text.js';

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

// Features are hashed with FNV-1a (32 bits) twice — seed 0 picks the dimension, seed 0x9e3779b9
// the sign — over the feature's text: "w:" + word, "b:" + word + " " + next word, "t:" + a
// character trigram of "^word$". The hashes are computed incrementally over the characters
// (no feature strings are built), which gives exactly the values hashing those strings would.
const fnvPrime = 0x01000193;
const fnvOffset = 0x811c9dc5;
const signSeed = 0x9e3779b9;

function fold(hash: number, text: string): number {
  let state = hash;
  for (let index = 0; index < text.length; index++) state = Math.imul(state ^ text.charCodeAt(index), fnvPrime);
  return state;
}

const prefixes = (prefix: string) => [fold(fnvOffset ^ 0, prefix), fold(fnvOffset ^ signSeed, prefix)] as const;
const [word0, word1] = prefixes('w:');
const [bigram0, bigram1] = prefixes('b:');
const [trigram0, trigram1] = prefixes('t:');
const caret = '^'.charCodeAt(0);
const dollar = '$'.charCodeAt(0);
const space = ' '.charCodeAt(0);

/**
 * A feature's identity: its dimension hash (32 bits) and the low 21 bits of its sign hash, in
 * one exact double. Two features would merge only if 53 bits of their hashes agreed.
 */
const featureKey = (hash0: number, hash1: number) => (hash0 >>> 0) * 2097152 + ((hash1 >>> 0) & 0x1fffff);

/**
 * Feature weights keyed by `featureKey`, in order of first appearance: an open-addressing table
 * reused for every text (no Map, no allocation per feature).
 */
class FeatureTable {
  keys = new Float64Array(256);
  weights = new Float64Array(256);
  size = 0;
  private slots = new Int32Array(1024).fill(-1);

  clear(): void {
    if (this.size > 0) this.slots.fill(-1);
    this.size = 0;
  }

  bump(key: number, weight: number): void {
    const mask = this.slots.length - 1;
    let slot = (key % 2147483647) & mask;
    for (;;) {
      const entry = this.slots[slot] as number;
      if (entry < 0) break;
      if (this.keys[entry] === key) {
        this.weights[entry] = (this.weights[entry] as number) + weight;
        return;
      }
      slot = (slot + 1) & mask;
    }
    if (this.size === this.keys.length) this.grow();
    if ((this.size + 1) * 2 > this.slots.length) {
      this.rehash(this.slots.length * 2);
      this.bump(key, weight);
      return;
    }
    this.slots[slot] = this.size;
    this.keys[this.size] = key;
    this.weights[this.size] = weight;
    this.size += 1;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    const weights = new Float64Array(this.weights.length * 2);
    weights.set(this.weights);
    this.weights = weights;
  }

  private rehash(capacity: number): void {
    this.slots = new Int32Array(capacity).fill(-1);
    const mask = capacity - 1;
    for (let entry = 0; entry < this.size; entry++) {
      let slot = ((this.keys[entry] as number) % 2147483647) & mask;
      while ((this.slots[slot] as number) >= 0) slot = (slot + 1) & mask;
      this.slots[slot] = entry;
    }
  }
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

  const features = new FeatureTable();
  const embedOne = (text: string): Float32Array => {
    // Weight per feature, in order of first appearance (the order the vector is summed in).
    features.clear();
    const tokens = words(text);
    for (let index = 0; index < tokens.length; index++) {
      const token = tokens[index] as string;
      const stop = STOPWORDS.has(token);
      features.bump(featureKey(fold(word0, token), fold(word1, token)), stop ? wordWeight * 0.2 : wordWeight);
      const next = tokens[index + 1];
      if (next !== undefined) {
        const pair0 = fold(Math.imul(fold(bigram0, token) ^ space, fnvPrime), next);
        const pair1 = fold(Math.imul(fold(bigram1, token) ^ space, fnvPrime), next);
        features.bump(featureKey(pair0, pair1), bigramWeight);
      }
      if (!stop && token.length > 2) {
        // Trigrams of "^token$".
        const last = token.length + 2;
        let previous0 = caret;
        let current = token.charCodeAt(0);
        for (let start = 0; start + 3 <= last; start++) {
          const following = start + 2 === last - 1 ? dollar : token.charCodeAt(start + 1);
          const hash0 = Math.imul(Math.imul(Math.imul(trigram0 ^ previous0, fnvPrime) ^ current, fnvPrime) ^ following, fnvPrime);
          const hash1 = Math.imul(Math.imul(Math.imul(trigram1 ^ previous0, fnvPrime) ^ current, fnvPrime) ^ following, fnvPrime);
          features.bump(featureKey(hash0, hash1), trigramWeight);
          previous0 = current;
          current = following;
        }
      }
    }
    const vector = new Float32Array(dimensions);
    for (let entry = 0; entry < features.size; entry++) {
      const key = features.keys[entry] as number;
      const weight = features.weights[entry] as number;
      const hash = Math.floor(key / 2097152);
      const sign = key % 2 === 1 ? 1 : -1;
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

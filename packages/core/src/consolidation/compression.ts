import type { MemoryRecord } from '../contracts/model.js';
import { QUERY_STOPWORDS, terms } from '../text/text.js';

const DAY = 86_400_000;
/** Locality-sensitive hashing: BANDS signatures of BITS random-hyperplane signs each. */
const BANDS = 8;
const BITS = 10;
/** A bucket keeps at most this many representatives, so one memory costs at most BANDS × this comparisons. */
const BUCKET_CAPACITY = 64;
const SWEEP_EVERY = 4096;

export interface ClusterItem {
  id: string;
  /** Epoch milliseconds. Items must be added newest first (non-increasing). */
  createdAt: number;
  /** Only items with the same group (scope and type) cluster together. */
  group: string;
  tags: readonly string[];
  vector: Float32Array;
}

export interface ClusterRules {
  similarity: number;
  taggedSimilarity: number;
  windowDays: number;
}

interface Entry {
  id: string;
  createdAt: number;
  tags: readonly string[];
  vector: Float32Array;
  norm: number;
}

/**
 * Near-duplicate clustering in one streaming pass, without all-pairs comparison.
 *
 * Each item is hashed into BANDS buckets (random-hyperplane LSH, seeded so runs are
 * deterministic) keyed by its group; it is compared only with the members of those buckets that
 * are at most `windowDays` newer, and joins (union-find) the cluster of every one whose cosine
 * similarity reaches `similarity` (or `taggedSimilarity` when they share a tag). An item that
 * joined a bucket's member is not added to that bucket (the member represents it), buckets hold
 * at most BUCKET_CAPACITY members and members older than the window are dropped: the work per
 * item is bounded, so the pass is linear in the number of items, and what is kept in memory is
 * bounded by how many items fall in one window.
 */
export class NearDuplicateClusterer {
  private readonly planes: Float32Array[] = [];
  private readonly buckets = new Map<string, Entry[]>();
  private readonly parent = new Map<string, string>();
  private readonly windowMs: number;
  private added = 0;
  /** Cosine similarities computed so far (the cost the bench watches). */
  comparisons = 0;

  constructor(
    dimensions: number,
    private readonly rules: ClusterRules,
    seed = 0x5eed,
  ) {
    const random = mulberry32(seed);
    for (let plane = 0; plane < BANDS * BITS; plane++) {
      const vector = new Float32Array(dimensions);
      for (let index = 0; index < dimensions; index++) vector[index] = gaussian(random);
      this.planes.push(vector);
    }
    this.windowMs = rules.windowDays * DAY;
  }

  add(item: ClusterItem): void {
    const entry: Entry = { id: item.id, createdAt: item.createdAt, tags: item.tags, vector: item.vector, norm: norm(item.vector) };
    if (entry.norm === 0) return;
    for (let band = 0; band < BANDS; band++) {
      let signature = 0;
      for (let bit = 0; bit < BITS; bit++) {
        if (dot(this.planes[band * BITS + bit] as Float32Array, item.vector) >= 0) signature |= 1 << bit;
      }
      const key = `${item.group}\u0000${band}:${signature}`;
      let bucket = this.buckets.get(key);
      if (!bucket) {
        bucket = [];
        this.buckets.set(key, bucket);
      }
      this.dropStale(bucket, item.createdAt);
      let represented = false;
      for (const member of bucket) {
        if (this.find(member.id) === this.find(entry.id)) {
          represented = true;
          continue;
        }
        this.comparisons++;
        const similarity = dot(member.vector, entry.vector) / (member.norm * entry.norm);
        const needed = shareTag(member.tags, entry.tags) ? this.rules.taggedSimilarity : this.rules.similarity;
        if (similarity >= needed) {
          this.union(member.id, entry.id);
          represented = true;
        }
      }
      if (!represented) {
        bucket.push(entry);
        if (bucket.length > BUCKET_CAPACITY) bucket.shift();
      }
    }
    if (++this.added % SWEEP_EVERY === 0) this.sweep(item.createdAt);
  }

  /** Clusters of at least `minSize` ids, each sorted, ordered by their first id. */
  clusters(minSize: number): string[][] {
    const groups = new Map<string, string[]>();
    for (const id of this.parent.keys()) {
      const root = this.find(id);
      let group = groups.get(root);
      if (!group) {
        group = [];
        groups.set(root, group);
      }
      group.push(id);
    }
    return [...groups.values()]
      .filter((group) => group.length >= minSize)
      .map((group) => group.sort())
      .sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
  }

  /** Members kept in buckets right now (what the pass holds in memory). */
  get held(): number {
    let total = 0;
    for (const bucket of this.buckets.values()) total += bucket.length;
    return total;
  }

  private dropStale(bucket: Entry[], createdAt: number): void {
    let stale = 0;
    while (stale < bucket.length && (bucket[stale] as Entry).createdAt - createdAt > this.windowMs) stale++;
    if (stale > 0) bucket.splice(0, stale);
  }

  private sweep(createdAt: number): void {
    for (const [key, bucket] of this.buckets) {
      this.dropStale(bucket, createdAt);
      if (bucket.length === 0) this.buckets.delete(key);
    }
  }

  private find(id: string): string {
    let root = id;
    for (let next = this.parent.get(root); next !== undefined && next !== root; next = this.parent.get(root)) root = next;
    // Path compression.
    let current = id;
    while (current !== root) {
      const next = this.parent.get(current) as string;
      this.parent.set(current, root);
      current = next;
    }
    return root;
  }

  private union(a: string, b: string): void {
    if (!this.parent.has(a)) this.parent.set(a, a);
    if (!this.parent.has(b)) this.parent.set(b, b);
    const rootA = this.find(a);
    const rootB = this.find(b);
    if (rootA === rootB) return;
    // The smaller id wins, so the result does not depend on the order of unions.
    if (rootA < rootB) this.parent.set(rootB, rootA);
    else this.parent.set(rootA, rootB);
  }
}

function shareTag(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0) return false;
  for (const tag of a) if (b.includes(tag)) return true;
  return false;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) sum += (a[index] as number) * (b[index] as number);
  return sum;
}

function norm(vector: Float32Array): number {
  return Math.sqrt(dot(vector, vector));
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const SENTENCE = /[^.!?\n]+[.!?]*/g;
const MAX_SUMMARY_SENTENCES = 2;
const MAX_SENTENCE_CHARACTERS = 300;

/**
 * An extractive summary of a cluster: the (at most two) sentences whose terms occur in the most
 * members, in the order they first appear, followed by how many memories it stands for and when.
 * Deterministic: ties go to the earlier sentence.
 */
export function extractiveSummary(records: readonly Pick<MemoryRecord, 'content' | 'createdAt'>[]): string {
  const documentFrequency = new Map<string, number>();
  for (const record of records) {
    for (const term of new Set(terms(record.content))) {
      if (!QUERY_STOPWORDS.has(term)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    }
  }
  const seen = new Set<string>();
  const sentences: Array<{ text: string; score: number; order: number }> = [];
  for (const record of records) {
    for (const match of record.content.match(SENTENCE) ?? []) {
      const text = match.trim().replace(/\s+/g, ' ');
      const normalised = text.toLowerCase();
      if (text.length === 0 || seen.has(normalised)) continue;
      seen.add(normalised);
      const sentenceTerms = [...new Set(terms(text))].filter((term) => !QUERY_STOPWORDS.has(term));
      if (sentenceTerms.length === 0) continue;
      let score = 0;
      for (const term of sentenceTerms) score += documentFrequency.get(term) ?? 0;
      // Average over the sentence's terms, so a long sentence does not win by length alone.
      sentences.push({
        text: text.slice(0, MAX_SENTENCE_CHARACTERS),
        score: score / Math.sqrt(sentenceTerms.length),
        order: sentences.length,
      });
    }
  }
  const chosen = [...sentences]
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, MAX_SUMMARY_SENTENCES)
    .sort((a, b) => a.order - b.order)
    .map((sentence) => sentence.text);
  const times = records.map((record) => record.createdAt.getTime());
  const first = new Date(Math.min(...times)).toISOString().slice(0, 10);
  const last = new Date(Math.max(...times)).toISOString().slice(0, 10);
  const span = first === last ? `on ${first}` : `between ${first} and ${last}`;
  return `${chosen.join(' ')} (${records.length} similar memories ${span})`;
}

import type { MemoryRecord } from '../contracts/model.js';
import { seededRandom } from '../seeded-random.js';
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
 * similarity reaches `similarity` (or `taggedSimilarity` when they share a tag), as long as the
 * joined cluster spans at most `windowDays` (no chaining across months). An item that
 * joined a bucket's member is not added to that bucket (the member represents it), buckets hold
 * at most BUCKET_CAPACITY members and members older than the window are dropped: the work per
 * item is bounded, so the pass is linear in the number of items, and what is kept in memory is
 * bounded by how many items fall in one window.
 */
export class NearDuplicateClusterer {
  private readonly planes: Float32Array[] = [];
  private readonly buckets = new Map<string, Entry[]>();
  private readonly parent = new Map<string, string>();
  /** Oldest and newest createdAt of each cluster, by root: a cluster never spans more than the window. */
  private readonly spans = new Map<string, { oldest: number; newest: number }>();
  private readonly windowMs: number;
  private added = 0;
  /** Cosine similarities computed so far (the cost the bench watches). */
  comparisons = 0;

  constructor(
    dimensions: number,
    private readonly rules: ClusterRules,
    seed = 0x5eed,
  ) {
    const random = seededRandom(seed);
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
        if (similarity >= needed && this.union(member, entry)) represented = true;
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

  /** Joins the clusters of a and b unless the result would span more than the window; true when joined. */
  private union(a: Entry, b: Entry): boolean {
    const rootA = this.find(a.id);
    const rootB = this.find(b.id);
    if (rootA === rootB) return true;
    const spanA = this.spans.get(rootA) ?? { oldest: a.createdAt, newest: a.createdAt };
    const spanB = this.spans.get(rootB) ?? { oldest: b.createdAt, newest: b.createdAt };
    const span = { oldest: Math.min(spanA.oldest, spanB.oldest), newest: Math.max(spanA.newest, spanB.newest) };
    if (span.newest - span.oldest > this.windowMs) return false;
    if (!this.parent.has(a.id)) this.parent.set(a.id, a.id);
    if (!this.parent.has(b.id)) this.parent.set(b.id, b.id);
    // The smaller id wins, so the result does not depend on the order of unions.
    const [root, child] = rootA < rootB ? [rootA, rootB] : [rootB, rootA];
    this.parent.set(child, root);
    this.spans.delete(child);
    this.spans.set(root, span);
    return true;
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

function gaussian(random: () => number): number {
  const u = Math.max(random(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A sentence ends at . ! or ? followed by white space, or at a line break (so 'registry.npmjs.org' stays whole). */
const SENTENCE_END = /(?<=[.!?])\s+|\n+/;
const MAX_SUMMARY_SENTENCES = 2;
const MAX_SENTENCE_CHARACTERS = 300;

/**
 * An extractive summary of a cluster, followed by how many memories it stands for and when.
 * Terms score by how many members contain them. A short cluster (the usual near-duplicates)
 * is summed up by its most representative member, whole; longer memories give their (at most
 * two) best sentences, a second one only when it says something the first does not.
 * Deterministic: ties go to the earlier member or sentence.
 */
export function extractiveSummary(records: readonly Pick<MemoryRecord, 'content' | 'createdAt'>[]): string {
  const documentFrequency = new Map<string, number>();
  const termsOf = (text: string) => [...new Set(terms(text))].filter((term) => !QUERY_STOPWORDS.has(term));
  for (const record of records) {
    for (const term of termsOf(record.content)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  }
  // Mean frequency over the square root of the term count: representative, not merely long.
  const score = (found: string[]) =>
    found.length === 0 ? 0 : found.reduce((sum, term) => sum + (documentFrequency.get(term) ?? 0), 0) / Math.sqrt(found.length);
  const oneLine = (text: string) => text.trim().replace(/\s+/g, ' ');

  let best: { text: string; score: number } | undefined;
  for (const record of records) {
    const candidate = { text: oneLine(record.content), score: score(termsOf(record.content)) };
    if (!best || candidate.score > best.score) best = candidate;
  }
  let chosen: string[];
  if (best && best.text.length <= MAX_SENTENCE_CHARACTERS) chosen = [best.text];
  else {
    const seen = new Set<string>();
    const sentences: Array<{ text: string; terms: string[]; score: number; order: number }> = [];
    for (const record of records) {
      for (const part of record.content.split(SENTENCE_END)) {
        const text = oneLine(part);
        if (text.length === 0 || seen.has(text.toLowerCase())) continue;
        seen.add(text.toLowerCase());
        const sentenceTerms = termsOf(text);
        if (sentenceTerms.length === 0) continue;
        sentences.push({
          text: text.slice(0, MAX_SENTENCE_CHARACTERS),
          terms: sentenceTerms,
          score: score(sentenceTerms),
          order: sentences.length,
        });
      }
    }
    const picked: typeof sentences = [];
    for (const sentence of [...sentences].sort((a, b) => b.score - a.score || a.order - b.order)) {
      if (picked.length === MAX_SUMMARY_SENTENCES) break;
      if (picked.some((other) => jaccard(other.terms, sentence.terms) >= 0.5)) continue;
      picked.push(sentence);
    }
    chosen = picked.sort((a, b) => a.order - b.order).map((sentence) => sentence.text);
  }
  const times = records.map((record) => record.createdAt.getTime());
  const first = new Date(Math.min(...times)).toISOString().slice(0, 10);
  const last = new Date(Math.max(...times)).toISOString().slice(0, 10);
  const span = first === last ? `on ${first}` : `between ${first} and ${last}`;
  return `${chosen.join(' ')} (${records.length} similar memories ${span})`;
}

function jaccard(a: readonly string[], b: readonly string[]): number {
  const set = new Set(a);
  let shared = 0;
  for (const term of b) if (set.has(term)) shared++;
  return shared / (set.size + b.length - shared);
}

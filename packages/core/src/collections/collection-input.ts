import type { Condition } from '../contracts/model.js';
import type {
  CollectionChanges,
  CollectionItem,
  CollectionQuery,
  CollectionSpec,
  CollectionTarget,
  VectorMetric,
} from '../contracts/vector-collections.js';
import { ConflictError, NotFoundError, ValidationError } from '../model/errors.js';
import { describeValue, findInputProblem } from '../model/input-guards.js';

/**
 * Input checks shared by every `VectorCollections` implementation, so that each adapter rejects
 * the same inputs with the same messages before it touches its database.
 */

export const VECTOR_METRICS: readonly VectorMetric[] = ['cosine', 'euclidean', 'dotproduct'];

/** Largest dimension a collection accepts (pgvector's `vector` limit). */
export const MAX_COLLECTION_DIMENSIONS = 16_000;

/** Largest metadata object of one item, in bytes of its JSON. */
export const MAX_COLLECTION_METADATA_BYTES = 1_048_576;

const encoder = new TextEncoder();
const namePattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function fail(field: string, message: string): never {
  throw new ValidationError([{ field, message }]);
}

export function checkCollectionName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !namePattern.test(name)) {
    fail(
      field,
      `must be 1 to 128 characters of letters, digits, '_', '-' and '.', starting with a letter, digit or '_' (got ${describeValue(name)})`,
    );
  }
  return name;
}

export function resolveCollectionSpec(spec: CollectionSpec | undefined): { dimensions: number; metric: VectorMetric } {
  if (typeof spec !== 'object' || spec === null) fail('spec', 'must be an object like { dimensions: 1536, metric: "cosine" }');
  const { dimensions } = spec;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_COLLECTION_DIMENSIONS) {
    fail('dimensions', `must be an integer from 1 to ${MAX_COLLECTION_DIMENSIONS} (got ${describeValue(dimensions)})`);
  }
  const metric = spec.metric ?? 'cosine';
  if (!VECTOR_METRICS.includes(metric)) {
    fail('metric', `must be one of ${VECTOR_METRICS.join(', ')} (got ${describeValue(metric)})`);
  }
  return { dimensions, metric };
}

/** The vector as float32, checked against the collection's dimension. */
export function toVector(value: unknown, dimensions: number, field: string): Float32Array {
  if (!(value instanceof Float32Array) && !Array.isArray(value)) {
    fail(field, `must be an array of ${dimensions} numbers (got ${describeValue(value)})`);
  }
  if (value.length !== dimensions) {
    fail(field, `has ${value.length} dimensions, but the collection holds ${dimensions}-dimensional vectors`);
  }
  const vector = value instanceof Float32Array ? Float32Array.from(value) : new Float32Array(dimensions);
  for (let index = 0; index < dimensions; index++) {
    const number = value[index];
    if (typeof number !== 'number' || !Number.isFinite(number)) {
      fail(`${field}[${index}]`, `must be a finite number (got ${describeValue(number)})`);
    }
    vector[index] = number;
    if (!Number.isFinite(vector[index])) fail(`${field}[${index}]`, `is outside the float32 range (got ${number})`);
  }
  return vector;
}

/** The metadata as JSON text, after checking it is a JSON object that can be stored faithfully. */
export function metadataJson(value: unknown, field: string): string {
  if (value === undefined || value === null) return '{}';
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Date) {
    fail(field, `must be a JSON object (got ${describeValue(value)})`);
  }
  const problem = findInputProblem(value, field);
  if (problem) throw new ValidationError([problem]);
  let text: string;
  try {
    text = JSON.stringify(value, (key, item: unknown) => {
      if (typeof item === 'function' || typeof item === 'symbol' || typeof item === 'bigint') {
        fail(`${field}.${key}`, `is a ${typeof item}, which JSON cannot hold: store a string or number instead`);
      }
      if (typeof item === 'number' && !Number.isFinite(item)) fail(`${field}.${key}`, `must be a finite number (got ${item})`);
      return item;
    });
  } catch (error) {
    if (ValidationError.isInstance(error)) throw error;
    fail(field, `cannot be stored as JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (text.length > MAX_COLLECTION_METADATA_BYTES / 3 && encoder.encode(text).length > MAX_COLLECTION_METADATA_BYTES) {
    fail(field, `is larger than ${MAX_COLLECTION_METADATA_BYTES} bytes of JSON: keep large text outside the vector store`);
  }
  return text;
}

export interface PreparedItem {
  id: string;
  vector: Float32Array;
  metadata: string;
}

function checkId(id: unknown, field: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 512) {
    fail(field, `must be a non-empty string of at most 512 characters (got ${describeValue(id)})`);
  }
  return id;
}

/** Checks every item before anything is written; the last item wins when an id repeats. */
export function prepareItems(items: readonly CollectionItem[], dimensions: number): PreparedItem[] {
  if (!Array.isArray(items)) fail('items', `must be an array of { id, vector, metadata } (got ${describeValue(items)})`);
  const prepared = new Map<string, PreparedItem>();
  items.forEach((item, index) => {
    const field = `items[${index}]`;
    if (typeof item !== 'object' || item === null) fail(field, 'must be an object { id, vector, metadata }');
    const id = checkId(item.id, `${field}.id`);
    const vector = toVector(item.vector, dimensions, `${field}.vector`);
    prepared.delete(id);
    prepared.set(id, { id, vector, metadata: metadataJson(item.metadata, `${field}.metadata`) });
  });
  return [...prepared.values()];
}

export function checkIds(ids: unknown, field = 'ids'): string[] {
  if (!Array.isArray(ids)) fail(field, `must be an array of ids (got ${describeValue(ids)})`);
  return ids.map((id, index) => checkId(id, `${field}[${index}]`));
}

export interface PreparedQuery {
  vector: Float32Array;
  topK: number;
  filter?: Condition;
  includeVectors: boolean;
}

export function prepareQuery(query: CollectionQuery, dimensions: number): PreparedQuery {
  if (typeof query !== 'object' || query === null) fail('query', 'must be an object like { vector, topK }');
  const { topK } = query;
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1) {
    fail('topK', `must be a positive integer (got ${describeValue(topK)})`);
  }
  const prepared: PreparedQuery = {
    vector: toVector(query.vector, dimensions, 'vector'),
    topK: Math.min(topK, 100_000),
    includeVectors: query.includeVectors === true,
  };
  if (query.filter !== undefined) prepared.filter = query.filter;
  return prepared;
}

export type PreparedTarget = { ids: string[] } | { filter: Condition };

export function prepareTarget(target: CollectionTarget): PreparedTarget {
  if (typeof target !== 'object' || target === null) fail('target', 'must be { ids: [...] } or { filter: condition }');
  const hasIds = 'ids' in target && target.ids !== undefined;
  const hasFilter = 'filter' in target && target.filter !== undefined;
  if (hasIds === hasFilter) {
    fail('target', hasIds ? 'ids and filter are mutually exclusive: give one' : 'give either ids or filter');
  }
  if (hasIds) return { ids: [...new Set(checkIds(target.ids, 'target.ids'))] };
  return { filter: (target as { filter: Condition }).filter };
}

export interface PreparedChanges {
  vector?: Float32Array;
  metadata?: string;
}

export function prepareChanges(changes: CollectionChanges, dimensions: number): PreparedChanges {
  if (typeof changes !== 'object' || changes === null) fail('changes', 'must be an object like { vector } or { metadata }');
  const prepared: PreparedChanges = {};
  if (changes.vector !== undefined) prepared.vector = toVector(changes.vector, dimensions, 'changes.vector');
  if (changes.metadata !== undefined) prepared.metadata = metadataJson(changes.metadata, 'changes.metadata');
  if (prepared.vector === undefined && prepared.metadata === undefined) fail('changes', 'give a vector, metadata, or both');
  return prepared;
}

export function collectionNotFound(name: string): NotFoundError {
  const error = new NotFoundError('Vector collection', name);
  error.message = `Vector collection ${JSON.stringify(name)} does not exist. Create it first with createCollection(name, { dimensions }).`;
  return error;
}

/** The score of `vector` against `query` under `metric` (higher is more similar), in double precision. */
export function collectionScore(metric: VectorMetric, query: Float32Array, vector: Float32Array): number {
  let dot = 0;
  let queryNorm = 0;
  let vectorNorm = 0;
  let squared = 0;
  for (let index = 0; index < query.length; index++) {
    const a = query[index] as number;
    const b = vector[index] as number;
    dot += a * b;
    queryNorm += a * a;
    vectorNorm += b * b;
    const difference = a - b;
    squared += difference * difference;
  }
  if (metric === 'dotproduct') return dot;
  if (metric === 'euclidean') return 1 / (1 + Math.sqrt(squared));
  const norms = Math.sqrt(queryNorm) * Math.sqrt(vectorNorm);
  return norms === 0 ? 0 : dot / norms;
}

/** Best first; equal scores by id, so every adapter answers ties in the same order. */
export function compareMatches(a: { score: number; id: string }, b: { score: number; id: string }): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Keeps the k best of a stream of matches without sorting all of them. */
export class TopMatches<T extends { score: number; id: string }> {
  private readonly items: T[] = [];
  constructor(private readonly k: number) {}

  offer(match: T): void {
    const items = this.items;
    if (items.length === this.k && compareMatches(match, items[items.length - 1] as T) >= 0) return;
    let low = 0;
    let high = items.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (compareMatches(items[middle] as T, match) <= 0) low = middle + 1;
      else high = middle;
    }
    items.splice(low, 0, match);
    if (items.length > this.k) items.pop();
  }

  result(): T[] {
    return this.items;
  }
}

/** The error for creating an existing collection with another shape. */
export function collectionConflict(
  name: string,
  existing: { dimensions: number; metric: VectorMetric },
  wanted: { dimensions: number; metric: VectorMetric },
): ConflictError {
  return new ConflictError(
    `Vector collection ${JSON.stringify(name)} already exists with ${existing.dimensions} dimensions and the ${existing.metric} metric, ` +
      `not ${wanted.dimensions} and ${wanted.metric}. Use another name, or delete it first (its vectors go with it).`,
  );
}

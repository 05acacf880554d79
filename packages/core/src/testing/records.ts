import type { MemoryRecord, Scope } from '../contracts/model.js';
import { uuidv7 } from '../model/ids.js';
import { contentHash } from '../text/text.js';

let clock = Date.UTC(2025, 0, 1);

/** A complete, valid record for store tests; override any field. Ids and times increase per call. */
export function makeRecord(overrides: Partial<MemoryRecord> & { content?: string; scope?: Scope } = {}): MemoryRecord {
  clock += 1000;
  const createdAt = overrides.createdAt ?? new Date(clock);
  const content = overrides.content ?? `memory number ${clock}`;
  return {
    id: uuidv7(createdAt.getTime()),
    content,
    contentHash: contentHash(content),
    type: 'observation',
    subtype: null,
    tags: [],
    metadata: {},
    scope: {},
    conversationId: null,
    importance: 0.5,
    quality: null,
    accessCount: 0,
    lastAccessedAt: null,
    createdAt,
    updatedAt: createdAt,
    validFrom: createdAt,
    validTo: null,
    supersededBy: null,
    deletedAt: null,
    key: null,
    source: null,
    confidence: null,
    emotion: null,
    emotionalValence: null,
    emotionalArousal: null,
    episodeId: null,
    sequenceNumber: null,
    precedingMemoryId: null,
    sourceType: null,
    credibility: null,
    ...overrides,
    ...(overrides.content !== undefined && overrides.contentHash === undefined ? { contentHash: contentHash(content) } : {}),
  };
}

/** A deterministic pseudo-random unit vector (mulberry32), for vector tests. */
export function seededVector(seed: number, dimensions: number): Float32Array {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let index = 0; index < dimensions; index++) {
    const value = next() * 2 - 1;
    vector[index] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < dimensions; index++) vector[index] = (vector[index] as number) * scale;
  return vector;
}

/** A unit vector close to `base` (cosine ≈ 1 − noise²/2). */
export function nearVector(base: Float32Array, seed: number, noise: number): Float32Array {
  const jitter = seededVector(seed, base.length);
  const vector = new Float32Array(base.length);
  let norm = 0;
  for (let index = 0; index < base.length; index++) {
    const value = (base[index] as number) + noise * (jitter[index] as number);
    vector[index] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < base.length; index++) vector[index] = (vector[index] as number) * scale;
  return vector;
}

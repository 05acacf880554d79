import { beforeAll, describe, expect, it } from 'vitest';
import type { Embedder } from '../contracts/embedder.js';

export interface EmbedderConformanceOptions {
  /** Shown in the suite title, e.g. 'transformers (tiny BERT)'. */
  name: string;
  /** Called once for the whole suite; may load a model. */
  create: () => Embedder | Promise<Embedder>;
  /** When given, the suite is skipped and this reason is shown in its title. */
  skip?: string;
}

type Vector = Float32Array | number[];

function cosine(left: Vector, right: Vector): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < left.length; index++) {
    const a = left[index] ?? 0;
    const b = right[index] ?? 0;
    dot += a * b;
    leftNorm += a * a;
    rightNorm += b * b;
  }
  if (leftNorm === 0 || rightNorm === 0) return leftNorm === rightNorm ? 1 : 0;
  return dot / Math.sqrt(leftNorm * rightNorm);
}

function norm(vector: Vector): number {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return Math.sqrt(sum);
}

/**
 * Two runs of one model over one text may differ in the last bits (thread scheduling, batch
 * padding, remote GPUs), so "the same vector" means the same direction and length to 1e-4.
 */
function expectSameVector(actual: Vector, expected: Vector): void {
  expect(actual.length).toBe(expected.length);
  expect(cosine(actual, expected)).toBeGreaterThan(0.9999);
  const expectedNorm = norm(expected);
  expect(Math.abs(norm(actual) - expectedNorm)).toBeLessThanOrEqual(1e-4 * Math.max(1, expectedNorm));
}

/**
 * The behaviour every `Embedder` must have. Run it from the embedder's own test file:
 *
 * ```ts
 * runEmbedderConformance({ name: 'my embedder', create: () => myEmbedder({ ... }) });
 * ```
 *
 * It checks the embedder alone (not core's batching or caching around it).
 */
export function runEmbedderConformance(options: EmbedderConformanceOptions): void {
  const title = `Embedder conformance: ${options.name}`;
  if (options.skip !== undefined) {
    describe.skip(`${title} (skipped: ${options.skip})`, () => {
      it('is skipped', () => {});
    });
    return;
  }

  describe(title, () => {
    let embedder: Embedder;

    beforeAll(async () => {
      embedder = await options.create();
    });

    const embed = (texts: string[], signal?: AbortSignal) => embedder.embed(texts, signal ? { signal } : undefined);

    const expectValidVectors = (vectors: Vector[], count: number) => {
      expect(Array.isArray(vectors)).toBe(true);
      expect(vectors).toHaveLength(count);
      for (const vector of vectors) {
        expect(vector instanceof Float32Array || Array.isArray(vector)).toBe(true);
        expect(vector).toHaveLength(embedder.dimensions);
        for (const value of vector) expect(Number.isFinite(value)).toBe(true);
        // A zero vector has no direction: cosine similarity to it is undefined.
        expect(norm(vector)).toBeGreaterThan(0);
      }
    };

    it("declares specificationVersion 'v1'", () => {
      expect(embedder.specificationVersion).toBe('v1');
    });

    it('has a non-empty string id', () => {
      expect(typeof embedder.id).toBe('string');
      expect(embedder.id.trim().length).toBeGreaterThan(0);
    });

    it('has positive integer dimensions', () => {
      expect(Number.isInteger(embedder.dimensions)).toBe(true);
      expect(embedder.dimensions).toBeGreaterThan(0);
    });

    it('has a positive integer maxBatchSize when it declares one', () => {
      if (embedder.maxBatchSize === undefined) return;
      expect(Number.isInteger(embedder.maxBatchSize)).toBe(true);
      expect(embedder.maxBatchSize).toBeGreaterThan(0);
    });

    it('returns one vector of `dimensions` finite numbers per input', async () => {
      const texts = ['The cat sat on the mat.', 'Stock markets fell sharply today.', 'How do I reset my password?'];
      expectValidVectors(await embed(texts), texts.length);
    });

    it('returns an empty array for no input', async () => {
      expect(await embed([])).toEqual([]);
    });

    it('is deterministic for the same input', async () => {
      const text = 'Deterministic embeddings make caching and deduplication possible.';
      const [first] = await embed([text]);
      const [second] = await embed([text]);
      expect(first).toBeDefined();
      expect(second).toBeDefined();
      expectSameVector(second as Vector, first as Vector);
    });

    it('keeps the input order in a batch', async () => {
      const texts = ['a cat chased a mouse', 'interest rates and inflation', 'rain is expected tomorrow'];
      const batch = await embed(texts);
      expectValidVectors(batch, texts.length);
      for (let index = 0; index < texts.length; index++) {
        const [alone] = await embed([texts[index] as string]);
        expectSameVector(batch[index] as Vector, alone as Vector);
      }
    });

    it('gives different texts different vectors', async () => {
      const [first, second] = await embed(['a cat chased a mouse', 'interest rates and inflation']);
      expect(cosine(first as Vector, second as Vector)).toBeLessThan(0.9999);
    });

    it('embeds the same text twice in one batch to the same vector', async () => {
      const [first, second] = await embed(['repeated text', 'repeated text']);
      expectSameVector(second as Vector, first as Vector);
    });

    it('rejects when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(embed(['never embedded'], controller.signal)).rejects.toThrow();
    });

    it('embeds unicode, emoji, whitespace-only and very long text without throwing', async () => {
      const long = Array.from({ length: 2000 }, (_, index) => `word${index % 97}`).join(' ');
      const texts = ['naïve café — Zürich', '日本語のテキストです', 'Ünïcödé 🤖🚀✨ emoji 👩‍👩‍👧', '   \n\t ', long];
      expectValidVectors(await embed(texts), texts.length);
    });
  });
}

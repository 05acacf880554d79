import { Embeddings } from '@langchain/core/embeddings';

const DIMENSIONS = 64;

function wordVector(text: string): number[] {
  const vector = new Array<number>(DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let hash = 2166136261;
    for (let index = 0; index < word.length; index++) hash = Math.imul(hash ^ word.charCodeAt(index), 16777619);
    vector[(hash >>> 0) % DIMENSIONS] = (vector[(hash >>> 0) % DIMENSIONS] ?? 0) + 1;
  }
  return vector;
}

/**
 * Deterministic bag-of-words embeddings (64 dimensions, no model, no network) so the reference
 * `InMemoryStore` can rank queries: texts sharing words are close, an identical text scores 1.
 * Records every `embedDocuments` call in `calls`.
 */
export class ConformanceEmbeddings extends Embeddings {
  static readonly dimensions = DIMENSIONS;
  readonly calls: string[][] = [];

  constructor() {
    super({});
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    this.calls.push([...documents]);
    return documents.map(wordVector);
  }

  async embedQuery(document: string): Promise<number[]> {
    return wordVector(document);
  }
}

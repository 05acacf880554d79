import type { Embedder } from '@engram/core';
import { checkBaseURL, EmbedderError, normaliseHeaders, postJson, serverMessage, ValidationError } from '@engram/core';
import { knownOpenAIModel } from './known-models.js';

export interface OpenAIEmbedderOptions {
  /**
   * The API root, up to and including the version: 'https://api.openai.com/v1' (default),
   * 'http://localhost:11434/v1' (Ollama), 'http://localhost:1234/v1' (LM Studio),
   * 'http://localhost:8000/v1' (vLLM)… Requests go to `<baseURL>/embeddings`.
   */
  baseURL?: string;
  /**
   * Sent as `Authorization: Bearer <apiKey>`. Default: the OPENAI_API_KEY environment variable.
   * Required for api.openai.com; local servers usually need none.
   */
  apiKey?: string;
  /** Default 'text-embedding-3-small'. */
  model?: string;
  /**
   * Size of the vectors. Known for OpenAI's models and common Ollama ones; required for others.
   * For text-embedding-3-* a smaller value asks OpenAI for shortened vectors; for other models it
   * only declares the size the server returns (checked on every response).
   */
  dimensions?: number;
  /** Most texts per request; larger inputs are split into several requests. Default 2048 (OpenAI's limit). */
  maxBatchSize?: number;
  /** Retries after a rate limit (429), a server error (5xx), a timeout or a network error. Default 3. */
  maxRetries?: number;
  /** Per-request timeout. Default 60 000 ms. */
  timeoutMs?: number;
  /** Extra headers for every request (e.g. an organisation or a proxy's own key). */
  headers?: Record<string, string>;
  /** A fetch implementation (e.g. one with a proxy agent). Default: the global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

export interface OpenAIEmbedder extends Embedder {
  readonly model: string;
  readonly baseURL: string;
}

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_OPENAI_MODEL = 'text-embedding-3-small';

function invalid(field: string, message: string): ValidationError {
  return new ValidationError([{ field, message }]);
}

function nonNegativeInteger(field: string, value: number | undefined, minimum: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < minimum)) {
    throw invalid(field, `must be an integer ≥ ${minimum}, got ${value}`);
  }
}

function environmentApiKey(): string | undefined {
  const value = typeof process === 'undefined' ? undefined : process.env.OPENAI_API_KEY;
  return value?.trim() ? value.trim() : undefined;
}

/** Decodes OpenAI's base64 encoding (little-endian float32), for servers that ignore encoding_format. */
function decodeBase64Vector(encoded: string): Float32Array {
  const bytes = Uint8Array.from(atob(encoded), (character) => character.charCodeAt(0));
  const vector = new Float32Array(Math.floor(bytes.length / 4));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let index = 0; index < vector.length; index++) vector[index] = view.getFloat32(index * 4, true);
  return vector;
}

/**
 * An embedder for any server speaking OpenAI's `POST /embeddings`: OpenAI itself, Ollama,
 * LM Studio, vLLM, LocalAI, llama.cpp's server, most gateways. Needs only the global `fetch`.
 */
export function openaiEmbedder(options: OpenAIEmbedderOptions = {}): OpenAIEmbedder {
  const baseURL = checkBaseURL(options.baseURL ?? DEFAULT_OPENAI_BASE_URL, invalid, 'http://localhost:11434/v1');
  const host = new URL(baseURL).hostname;
  const model = options.model ?? DEFAULT_OPENAI_MODEL;
  if (typeof model !== 'string' || model.trim() === '')
    throw invalid('model', 'must be a non-empty model name, e.g. "text-embedding-3-small"');

  const apiKey = options.apiKey?.trim() || environmentApiKey();
  if (apiKey === undefined && host === 'api.openai.com') {
    throw invalid(
      'apiKey',
      `OpenAI (${baseURL}) needs an API key: pass the apiKey option or set the OPENAI_API_KEY environment variable. ` +
        'Local servers need none: set baseURL instead, e.g. http://localhost:11434/v1 for Ollama.',
    );
  }

  nonNegativeInteger('dimensions', options.dimensions, 1);
  nonNegativeInteger('maxBatchSize', options.maxBatchSize, 1);
  nonNegativeInteger('maxRetries', options.maxRetries, 0);
  nonNegativeInteger('timeoutMs', options.timeoutMs, 1);

  const known = knownOpenAIModel(model);
  const dimensions = options.dimensions ?? known?.dimensions;
  if (dimensions === undefined) {
    throw invalid(
      'dimensions',
      `the size of ${model}'s vectors is not known to Engram; pass it, e.g. openaiEmbedder({ model: ${JSON.stringify(model)}, dimensions: 768 }) ` +
        '(a wrong value is reported on the first embed, with the right one)',
    );
  }
  if (known && dimensions !== known.dimensions) {
    if (!known.shortenable)
      throw invalid('dimensions', `${model} always returns ${known.dimensions} dimensions; omit the option or use ${known.dimensions}`);
    if (dimensions > known.dimensions)
      throw invalid('dimensions', `${model} returns at most ${known.dimensions} dimensions, got ${dimensions}`);
  }
  // Only ask for shortening when it changes something: servers that cannot shorten reject the field.
  const requestDimensions = known?.shortenable && dimensions !== known.dimensions ? dimensions : undefined;

  const maxBatchSize = options.maxBatchSize ?? 2048;
  const maxRetries = options.maxRetries ?? 3;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  const url = `${baseURL}/embeddings`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
    ...normaliseHeaders(options.headers),
  };
  const id = `openai:${model}${requestDimensions === undefined ? '' : `:${requestDimensions}`}`;

  const statusError = (status: number, reason: string): EmbedderError => {
    if (status === 401 || status === 403) {
      return new EmbedderError(
        `${url} refused the API key (${reason}). ` +
          (apiKey === undefined ? 'No key was sent: ' : 'Check the key: ') +
          'set the apiKey option of openaiEmbedder or the OPENAI_API_KEY environment variable.',
      );
    }
    if (status === 404) {
      return new EmbedderError(
        `${url} answered ${reason}. Check that the model ${JSON.stringify(model)} exists on this server ` +
          `(for Ollama: \`ollama pull ${model}\`) and that baseURL is the API root including the version, ` +
          'e.g. https://api.openai.com/v1 or http://localhost:11434/v1.',
      );
    }
    return new EmbedderError(`${url} rejected the embedding request for model ${JSON.stringify(model)} (${reason}).`);
  };

  const parse = (body: string, count: number): Float32Array[] => {
    let payload: { data?: unknown };
    try {
      payload = JSON.parse(body) as { data?: unknown };
    } catch {
      throw new EmbedderError(
        `${url} returned a response that is not JSON: ${serverMessage(body)}. Is baseURL an OpenAI-compatible API root?`,
      );
    }
    const data = payload?.data;
    if (!Array.isArray(data)) {
      throw new EmbedderError(`${url} returned no \`data\` array (got ${serverMessage(body)}). Is baseURL an OpenAI-compatible API root?`);
    }
    if (data.length !== count) {
      throw new EmbedderError(`${url} returned ${data.length} embeddings for ${count} inputs.`);
    }
    const vectors = new Array<Float32Array | undefined>(count);
    data.forEach((item: { index?: unknown; embedding?: unknown }, position) => {
      const index = typeof item?.index === 'number' ? item.index : position;
      if (!Number.isInteger(index) || index < 0 || index >= count || vectors[index] !== undefined) {
        throw new EmbedderError(`${url} returned an embedding with an invalid or repeated index ${JSON.stringify(item?.index)}.`);
      }
      const raw = item?.embedding;
      const vector =
        typeof raw === 'string' ? decodeBase64Vector(raw) : Array.isArray(raw) ? Float32Array.from(raw as number[]) : undefined;
      if (vector === undefined) throw new EmbedderError(`${url} returned an embedding that is neither an array of numbers nor base64.`);
      if (vector.length !== dimensions) {
        throw new EmbedderError(
          `${url} returned ${vector.length}-dimensional vectors for model ${JSON.stringify(model)}, but this embedder expects ${dimensions}. ` +
            `Set dimensions: ${vector.length} (a store built with ${dimensions} dimensions needs a re-embed).`,
        );
      }
      for (let offset = 0; offset < vector.length; offset++) {
        if (!Number.isFinite(vector[offset])) {
          throw new EmbedderError(`${url} returned a vector containing ${String(vector[offset])} (input ${index}).`);
        }
      }
      vectors[index] = vector;
    });
    return vectors as Float32Array[];
  };

  const request = async (texts: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> => {
    const answer = await postJson({
      url,
      headers,
      body: {
        model,
        input: texts,
        encoding_format: 'float',
        ...(requestDimensions === undefined ? {} : { dimensions: requestDimensions }),
      },
      timeoutMs,
      maxRetries,
      signal,
      fetch: fetchImplementation,
      baseURL,
      statusError,
      failure: (message, { cause }) => new EmbedderError(message, { cause }),
    });
    return parse(answer.body, texts.length);
  };

  return {
    specificationVersion: 'v1',
    id,
    dimensions,
    maxBatchSize,
    model,
    baseURL,

    async embed(texts, embedOptions) {
      const signal = embedOptions?.signal;
      signal?.throwIfAborted();
      const vectors: Float32Array[] = [];
      // Core normally splits batches already; splitting here too keeps direct callers safe.
      for (let start = 0; start < texts.length; start += maxBatchSize) {
        vectors.push(...(await request(texts.slice(start, start + maxBatchSize), signal)));
      }
      return vectors;
    },
  };
}

import type { Embedder } from '@engram/core';
import { backoffMs, EmbedderError, isRetryableStatus, retryAfterMs, sleep, ValidationError } from '@engram/core';
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

/** A server asking us to wait longer than this is reported rather than waited for. */
const MAX_RETRY_AFTER_MS = 60_000;

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

/** The server's own explanation, from OpenAI's `{ error: { message } }`, Ollama's `{ error }` or plain text. */
function serverMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    const error = parsed.error;
    if (typeof error === 'string') return error;
    if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
      return (error as { message: string }).message;
    }
    if (typeof parsed.message === 'string') return parsed.message;
    if (typeof parsed.detail === 'string') return parsed.detail;
  } catch {
    // not JSON: fall through to the raw text
  }
  const text = body.trim().replace(/\s+/g, ' ');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text || '(empty response body)';
}

/** Decodes OpenAI's base64 encoding (little-endian float32), for servers that ignore encoding_format. */
function decodeBase64Vector(encoded: string): Float32Array {
  const bytes = Uint8Array.from(atob(encoded), (character) => character.charCodeAt(0));
  const vector = new Float32Array(Math.floor(bytes.length / 4));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let index = 0; index < vector.length; index++) vector[index] = view.getFloat32(index * 4, true);
  return vector;
}

class RetryableFailure {
  constructor(
    readonly description: string,
    readonly waitMs: number | undefined,
    readonly cause?: unknown,
  ) {}
}

/**
 * An embedder for any server speaking OpenAI's `POST /embeddings`: OpenAI itself, Ollama,
 * LM Studio, vLLM, LocalAI, llama.cpp's server, most gateways. Needs only the global `fetch`.
 */
export function openaiEmbedder(options: OpenAIEmbedderOptions = {}): OpenAIEmbedder {
  const baseURL = (options.baseURL ?? DEFAULT_OPENAI_BASE_URL).replace(/\/+$/, '');
  let parsed: URL | undefined;
  try {
    parsed = new URL(baseURL);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw invalid('baseURL', `must be an absolute http(s) URL such as http://localhost:11434/v1, got ${JSON.stringify(options.baseURL)}`);
  }
  const host = parsed.hostname;
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
    // Lower-cased so that a caller's 'Authorization' replaces ours instead of joining it.
    ...Object.fromEntries(Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value])),
  };
  const id = `openai:${model}${requestDimensions === undefined ? '' : `:${requestDimensions}`}`;

  const statusError = (status: number, statusText: string, body: string): EmbedderError => {
    const reason = `${status}${statusText ? ` ${statusText}` : ''}: ${serverMessage(body)}`;
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

  /** One HTTP attempt: vectors, a RetryableFailure, or a thrown final error. */
  const attempt = async (texts: string[], signal: AbortSignal | undefined): Promise<Float32Array[] | RetryableFailure> => {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const requestBody = {
        model,
        input: texts,
        encoding_format: 'float',
        ...(requestDimensions === undefined ? {} : { dimensions: requestDimensions }),
      };
      const response = await fetchImplementation(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(requestBody),
        signal: controller.signal,
      });
      const body = await response.text();
      if (response.ok) return parse(body, texts.length);
      if (!isRetryableStatus(response.status)) throw statusError(response.status, response.statusText, body);
      const description = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}: ${serverMessage(body)}`;
      const wait = retryAfterMs(response.headers);
      if (wait !== undefined && wait > MAX_RETRY_AFTER_MS) {
        throw new EmbedderError(
          `${url} answered ${description} and asked to retry after ${Math.ceil(wait / 1000)} s; giving up instead of waiting that long.`,
        );
      }
      return new RetryableFailure(description, wait);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (EmbedderError.isInstance(error)) throw error;
      if (timedOut) return new RetryableFailure(`no response within timeoutMs (${timeoutMs} ms)`, undefined, error);
      // fetch rejects with a TypeError for network failures; the reason is in its cause.
      const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
      const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
      return new RetryableFailure(`network error (${detail}); is the server running at ${baseURL}?`, undefined, error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  };

  const request = async (texts: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> => {
    for (let attemptNumber = 0; ; attemptNumber++) {
      signal?.throwIfAborted();
      const outcome = await attempt(texts, signal);
      if (!(outcome instanceof RetryableFailure)) return outcome;
      if (attemptNumber >= maxRetries) {
        throw new EmbedderError(
          `${url} failed after ${attemptNumber + 1} attempt${attemptNumber === 0 ? '' : 's'} (maxRetries: ${maxRetries}); last error: ${outcome.description}`,
          { cause: outcome.cause },
        );
      }
      await sleep(outcome.waitMs ?? backoffMs(attemptNumber), signal);
    }
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

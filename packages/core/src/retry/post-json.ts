import { backoffMs, isRetryableStatus, retryAfterMs, sleep } from './retry.js';

/** A server asking us to wait longer than this is reported rather than waited for. */
const MAX_RETRY_AFTER_MS = 60_000;

export interface PostJsonOptions {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  maxRetries: number;
  signal: AbortSignal | undefined;
  fetch: typeof globalThis.fetch;
  /** Root of the API, for "is the server running at …?" hints. */
  baseURL: string;
  /** The final error for a status that is not retried (400, 401, 404…); `reason` is "<status> <text>: <server's message>". */
  statusError: (status: number, reason: string, body: string) => Error;
  /**
   * The adapter's own error for a request that kept failing (`retryable: true`: the caller may
   * try again later), e.g. `(message, options) => new ModelError(message, options)`.
   */
  failure: (message: string, options: { cause?: unknown; retryable: boolean }) => Error;
  /** Waits between attempts (tests replace it to keep time). Default: backoff with jitter, or the server's Retry-After. */
  sleep?: (milliseconds: number, signal: AbortSignal | undefined) => Promise<void>;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

class RetryableFailure {
  constructor(
    readonly description: string,
    readonly waitMs: number | undefined,
    readonly cause?: unknown,
  ) {}
}

/** The server's own explanation: `{ error: { message } }` (OpenAI, Anthropic), `{ error }` (Ollama) or plain text. */
export function serverMessage(body: string): string {
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

/**
 * POSTs JSON and returns the successful answer's body: the one request loop of the HTTP adapters
 * (model and embedder clients). Retries timeouts, network errors, 408, 409, 429 and 5xx with
 * exponential backoff, honouring `Retry-After` / `retry-after-ms`; an aborted `signal` rejects at
 * once with its reason. Any other status becomes `statusError`.
 */
export async function postJson(options: PostJsonOptions): Promise<HttpAnswer> {
  const wait = options.sleep ?? sleep;
  for (let attemptNumber = 0; ; attemptNumber++) {
    options.signal?.throwIfAborted();
    const outcome = await attempt(options);
    if (!(outcome instanceof RetryableFailure)) return outcome;
    if (attemptNumber >= options.maxRetries) {
      throw options.failure(
        `${options.url} failed after ${attemptNumber + 1} attempt${attemptNumber === 0 ? '' : 's'} (maxRetries: ${options.maxRetries}); last error: ${outcome.description}`,
        { cause: outcome.cause, retryable: true },
      );
    }
    await wait(outcome.waitMs ?? backoffMs(attemptNumber), options.signal);
  }
}

async function attempt(options: PostJsonOptions): Promise<HttpAnswer | RetryableFailure> {
  const { signal, timeoutMs, url } = options;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let response: Response;
  let body: string;
  try {
    response = await options.fetch(url, {
      method: 'POST',
      headers: options.headers,
      body: JSON.stringify(options.body),
      signal: controller.signal,
    });
    body = await response.text();
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timedOut) return new RetryableFailure(`no response within timeoutMs (${timeoutMs} ms)`, undefined, error);
    // fetch rejects with a TypeError for network failures; the reason is in its cause.
    const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
    const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    return new RetryableFailure(`network error (${detail}); is the server running at ${options.baseURL}?`, undefined, error);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  if (response.ok) return { status: response.status, body };
  const reason = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}: ${serverMessage(body)}`;
  if (!isRetryableStatus(response.status)) throw options.statusError(response.status, reason, body);
  const retryAfter = retryAfterMs(response.headers);
  if (retryAfter !== undefined && retryAfter > MAX_RETRY_AFTER_MS) {
    throw options.failure(
      `${url} answered ${reason} and asked to retry after ${Math.ceil(retryAfter / 1000)} s; giving up instead of waiting that long.`,
      { retryable: true },
    );
  }
  return new RetryableFailure(reason, retryAfter);
}

/** Header names lower-cased, so that a caller's 'Authorization' replaces ours instead of joining it. */
export function normaliseHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}

/** The API root without trailing slashes; an error through `invalid('baseURL', …)` unless it is an absolute http(s) URL. */
export function checkBaseURL(value: string, invalid: (field: string, message: string) => Error, example: string): string {
  const baseURL = value.replace(/\/+$/, '');
  let parsed: URL | undefined;
  try {
    parsed = new URL(baseURL);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw invalid('baseURL', `must be an absolute http(s) URL such as ${example}, got ${JSON.stringify(value)}`);
  }
  return baseURL;
}

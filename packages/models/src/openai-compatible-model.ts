import type { LanguageModel, LanguageModelJsonSchema, LanguageModelRequest, LanguageModelResponse } from '@engram/core';
import { checkBaseURL, ModelError, normaliseHeaders, postJson, serverMessage, sleep, ValidationError } from '@engram/core';
import { checkCommonOptions, modelFailure, parseBody } from './model-helpers.js';

export interface OpenAICompatibleModelOptions {
  /**
   * The API root, up to and including the version: 'https://api.openai.com/v1' (default),
   * 'http://localhost:11434/v1' (Ollama), 'http://localhost:1234/v1' (LM Studio),
   * 'http://localhost:8000/v1' (vLLM), 'https://openrouter.ai/api/v1',
   * 'https://<resource>.openai.azure.com/openai/v1' (Azure). Requests go to `<baseURL>/chat/completions`.
   */
  baseURL?: string;
  /**
   * Sent as `Authorization: Bearer <apiKey>`. Default: the OPENAI_API_KEY environment variable.
   * Required for api.openai.com; local servers usually need none. Azure takes its key in an
   * `api-key` header: pass `headers: { 'api-key': key }` instead.
   */
  apiKey?: string;
  /** The model name the server knows, e.g. 'gpt-4o-mini', 'llama3.1', 'qwen2.5:7b'. Required. */
  model: string;
  /**
   * How JSON answers with a schema are asked for. 'auto' (default): structured outputs
   * (`response_format: { type: 'json_schema', … }`), falling back to JSON mode (`json_object`
   * with the schema in the system prompt) for good when the server rejects them. `false`: JSON
   * mode from the start.
   */
  structuredOutputs?: 'auto' | boolean;
  /**
   * Default answer length limit (`max_tokens`; `max_completion_tokens` once a server asks for it,
   * as OpenAI's reasoning models do). Default 4096.
   */
  maxOutputTokens?: number;
  /** Default 0: extraction wants the same answer for the same input. */
  temperature?: number;
  /** Retries after a rate limit (429), a server error (5xx), a timeout or a network error. Default 3. */
  maxRetries?: number;
  /** Per-attempt timeout. Default 120 000 ms. */
  timeoutMs?: number;
  /** Extra headers for every request (Azure's `api-key`, OpenRouter's `HTTP-Referer`…). */
  headers?: Record<string, string>;
  /** A fetch implementation (e.g. one with a proxy agent). Default: the global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

export interface OpenAICompatibleModel extends LanguageModel {
  readonly model: string;
  readonly baseURL: string;
  complete(request: LanguageModelRequest): Promise<LanguageModelResponse>;
}

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

function invalid(field: string, message: string): ValidationError {
  return new ValidationError([{ field, message }]);
}

function environmentApiKey(): string | undefined {
  const value = typeof process === 'undefined' ? undefined : process.env.OPENAI_API_KEY;
  return value?.trim() ? value.trim() : undefined;
}

const SCHEMA_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The system prompt addition JSON mode needs: the schema, and the word "JSON" (OpenAI requires it). */
export function jsonModeInstruction(format: LanguageModelJsonSchema | undefined): string {
  if (!format) return 'Answer with one JSON object and nothing else.';
  return (
    `Answer with one JSON object named ${format.name} and nothing else${format.description ? ` (${format.description})` : ''}. ` +
    `It must follow this JSON Schema:\n${JSON.stringify(format.schema)}`
  );
}

/** Whether a 400 says the server cannot do `json_schema` response formats (so JSON mode may work). */
function rejectsStructuredOutputs(body: string): boolean {
  let param: unknown;
  try {
    param = (JSON.parse(body) as { error?: { param?: unknown } })?.error?.param;
  } catch {
    param = undefined;
  }
  return param === 'response_format' || /response_format|json_schema|structured output/i.test(serverMessage(body));
}

/**
 * A `LanguageModel` for any server speaking OpenAI's `POST /chat/completions`: OpenAI, Azure
 * OpenAI, Ollama, vLLM, LM Studio, OpenRouter, llama.cpp's server, most gateways. Needs only `fetch`.
 */
export function openaiCompatibleModel(options: OpenAICompatibleModelOptions): OpenAICompatibleModel {
  if (!options || typeof options !== 'object') throw invalid('options', 'pass { model, baseURL?, apiKey? }');
  const baseURL = checkBaseURL(options.baseURL ?? DEFAULT_OPENAI_BASE_URL, invalid, 'http://localhost:11434/v1');
  const host = new URL(baseURL).hostname;
  const model = options.model;
  if (typeof model !== 'string' || model.trim() === '') {
    throw invalid('model', 'must be a non-empty model name, e.g. "gpt-4o-mini" (ENGRAM_MODEL for the CLI and MCP server)');
  }
  const apiKey = options.apiKey?.trim() || environmentApiKey();
  if (apiKey === undefined && host === 'api.openai.com') {
    throw invalid(
      'apiKey',
      `OpenAI (${baseURL}) needs an API key: pass the apiKey option or set OPENAI_API_KEY (ENGRAM_MODEL_KEY for the CLI and MCP server). ` +
        'Local servers need none: set baseURL instead, e.g. http://localhost:11434/v1 for Ollama.',
    );
  }
  checkCommonOptions(options, invalid);
  if (options.temperature !== undefined && !(options.temperature >= 0 && options.temperature <= 2)) {
    throw invalid('temperature', `must be between 0 and 2, got ${options.temperature}`);
  }
  const structured = options.structuredOutputs ?? 'auto';
  if (structured !== 'auto' && typeof structured !== 'boolean') throw invalid('structuredOutputs', "must be 'auto', true or false");
  let useStructuredOutputs = structured !== false;
  // Learned from 400 answers (OpenAI's reasoning models): max_completion_tokens, no temperature.
  let tokensField: 'max_tokens' | 'max_completion_tokens' = 'max_tokens';
  let sendTemperature = true;

  const maxOutputTokens = options.maxOutputTokens ?? 4096;
  const temperature = options.temperature ?? 0;
  const maxRetries = options.maxRetries ?? 3;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  const url = `${baseURL}/chat/completions`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
    ...normaliseHeaders(options.headers),
  };

  const statusError = (status: number, reason: string, body: string): Error => {
    if (status === 401 || status === 403) {
      return new ModelError(
        `${url} refused the API key (${reason}). ` +
          (apiKey === undefined ? 'No key was sent: ' : 'Check the key: ') +
          'set the apiKey option of openaiCompatibleModel, OPENAI_API_KEY, or ENGRAM_MODEL_KEY for the CLI and MCP server.',
      );
    }
    if (status === 404) {
      return new ModelError(
        `${url} answered ${reason}. Check the model name ${JSON.stringify(model)} (ENGRAM_MODEL; for Ollama: \`ollama pull ${model}\`) ` +
          'and that baseURL (ENGRAM_MODEL_URL) is the API root including the version, e.g. https://api.openai.com/v1 or http://localhost:11434/v1.',
      );
    }
    const parameter = status === 400 ? rejectedParameter(body) : undefined;
    const adjustment =
      parameter === 'max_tokens' && tokensField === 'max_tokens'
        ? USE_MAX_COMPLETION_TOKENS
        : parameter === 'temperature' && sendTemperature
          ? OMIT_TEMPERATURE
          : status === 400 && useStructuredOutputs && rejectsStructuredOutputs(body)
            ? STRUCTURED_OUTPUTS_REJECTED
            : undefined;
    return new ModelError(
      `${url} rejected the request for model ${JSON.stringify(model)} (${reason}).` +
        (adjustment === STRUCTURED_OUTPUTS_REJECTED
          ? " This server has no structured outputs: use structuredOutputs: false or the default, 'auto'."
          : ' Check the model name (ENGRAM_MODEL) and maxOutputTokens against what this server accepts.'),
      { cause: adjustment },
    );
  };

  const send = async (request: LanguageModelRequest, structuredFormat: boolean): Promise<LanguageModelResponse> => {
    const format = typeof request.json === 'object' ? request.json : undefined;
    if (format && !SCHEMA_NAME.test(format.name)) {
      throw invalid('request.json.name', `must be 1–64 letters, digits, _ or -, got ${JSON.stringify(format.name)}`);
    }
    const system = [request.system, request.json && !structuredFormat ? jsonModeInstruction(format) : undefined]
      .filter((part): part is string => typeof part === 'string' && part.length > 0)
      .join('\n\n');
    const body = {
      model,
      messages: [
        ...(system ? [{ role: 'system', content: system }] : []),
        ...request.messages.map(({ role, content }) => ({ role, content })),
      ],
      ...(sendTemperature ? { temperature: request.temperature ?? temperature } : {}),
      [tokensField]: request.maxOutputTokens ?? maxOutputTokens,
      ...(request.json
        ? {
            response_format:
              structuredFormat && format
                ? {
                    type: 'json_schema',
                    json_schema: {
                      name: format.name,
                      ...(format.description ? { description: format.description } : {}),
                      schema: format.schema,
                      strict: true,
                    },
                  }
                : { type: 'json_object' },
          }
        : {}),
    };
    const answer = await postJson({
      url,
      headers,
      body,
      timeoutMs,
      maxRetries,
      signal: request.signal,
      fetch: fetchImplementation,
      baseURL,
      statusError,
      failure: modelFailure,
      sleep,
    });
    return readCompletion(url, model, answer.body, request.maxOutputTokens ?? maxOutputTokens);
  };

  return {
    specificationVersion: 'v1',
    id: `openai-compatible:${model}`,
    model,
    baseURL,
    async complete(request) {
      if (!request || !Array.isArray(request.messages)) throw invalid('request.messages', 'must be an array of { role, content }');
      const wantsSchema = typeof request.json === 'object';
      // Each rejection the server explains (no structured outputs, max_completion_tokens instead of
      // max_tokens, no temperature) is adapted to once and remembered for later calls.
      for (let adjustments = 0; ; adjustments++) {
        try {
          return await send(request, wantsSchema && useStructuredOutputs);
        } catch (error) {
          const cause = (error as { cause?: unknown })?.cause;
          if (adjustments >= 3) throw error;
          if (cause === STRUCTURED_OUTPUTS_REJECTED && structured === 'auto') useStructuredOutputs = false;
          else if (cause === USE_MAX_COMPLETION_TOKENS) tokensField = 'max_completion_tokens';
          else if (cause === OMIT_TEMPERATURE) sendTemperature = false;
          else throw error;
        }
      }
    },
  };
}

const STRUCTURED_OUTPUTS_REJECTED = Symbol('structured outputs rejected');
const USE_MAX_COMPLETION_TOKENS = Symbol('use max_completion_tokens');
const OMIT_TEMPERATURE = Symbol('omit temperature');

/** The parameter a 400 names as unsupported (`error.param`, or "Unsupported parameter: 'x'" / "Unsupported value: 'x'"). */
function rejectedParameter(body: string): string | undefined {
  let error: { param?: unknown; code?: unknown } | undefined;
  try {
    error = (JSON.parse(body) as { error?: { param?: unknown; code?: unknown } })?.error;
  } catch {
    error = undefined;
  }
  const message = serverMessage(body);
  const named = /Unsupported (?:parameter|value): '(\w+)'/i.exec(message)?.[1];
  if (named) return named;
  if (typeof error?.param === 'string' && /unsupported/i.test(`${String(error.code)} ${message}`)) return error.param;
  return undefined;
}

function readCompletion(url: string, model: string, body: string, maxOutputTokens: number): LanguageModelResponse {
  const payload = parseBody(url, body, 'an OpenAI-compatible API root');
  const choices = payload.choices;
  const choice = Array.isArray(choices) ? (choices[0] as Record<string, unknown> | undefined) : undefined;
  const message = choice?.message as { content?: unknown; refusal?: unknown } | undefined;
  if (!message)
    throw new ModelError(`${url} returned no choices[0].message (got ${serverMessage(body)}). Is baseURL an OpenAI-compatible API root?`);
  if (typeof message.refusal === 'string' && message.refusal) {
    throw new ModelError(`${model} refused to answer: ${message.refusal}`);
  }
  if (choice?.finish_reason === 'length') {
    throw new ModelError(`${model}'s answer was cut off at ${maxOutputTokens} tokens: raise maxOutputTokens.`, { retryable: false });
  }
  if (typeof message.content !== 'string') throw new ModelError(`${url} returned a message without text content.`);
  const usage = payload.usage as { prompt_tokens?: unknown; completion_tokens?: unknown } | undefined;
  return {
    text: message.content,
    ...(usage && typeof usage.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number'
      ? { usage: { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens } }
      : {}),
  };
}

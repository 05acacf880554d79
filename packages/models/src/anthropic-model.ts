import type { LanguageModel, LanguageModelRequest, LanguageModelResponse } from '@engram/core';
import { checkBaseURL, ModelError, normaliseHeaders, postJson, serverMessage, sleep, ValidationError } from '@engram/core';
import { checkCommonOptions, modelFailure, parseBody } from './model-helpers.js';

export interface AnthropicModelOptions {
  /** Sent as `x-api-key`. Default: the ANTHROPIC_API_KEY environment variable. Required. */
  apiKey?: string;
  /** e.g. 'claude-3-5-haiku-latest', 'claude-sonnet-4-5'. Required. */
  model: string;
  /** The API root including the version. Default 'https://api.anthropic.com/v1'. Requests go to `<baseURL>/messages`. */
  baseURL?: string;
  /** Default answer length limit (`max_tokens`, which the Messages API requires). Default 4096. */
  maxOutputTokens?: number;
  /** Default 0. */
  temperature?: number;
  /** Retries after a rate limit (429), an overload (529), a server error (5xx), a timeout or a network error. Default 3. */
  maxRetries?: number;
  /** Per-attempt timeout. Default 120 000 ms. */
  timeoutMs?: number;
  /** Default '2023-06-01'. */
  anthropicVersion?: string;
  /** Extra headers for every request (e.g. `anthropic-beta`). */
  headers?: Record<string, string>;
  /** A fetch implementation. Default: the global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

export interface AnthropicModel extends LanguageModel {
  readonly model: string;
  readonly baseURL: string;
  complete(request: LanguageModelRequest): Promise<LanguageModelResponse>;
}

export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com/v1';

/** The tool a plain `json: true` request forces: any JSON object. */
const ANY_JSON_TOOL = { name: 'json_answer', description: 'Give the answer as one JSON object.', input_schema: { type: 'object' } };

function invalid(field: string, message: string): ValidationError {
  return new ValidationError([{ field, message }]);
}

function environmentApiKey(): string | undefined {
  const value = typeof process === 'undefined' ? undefined : process.env.ANTHROPIC_API_KEY;
  return value?.trim() ? value.trim() : undefined;
}

/**
 * A `LanguageModel` on Anthropic's Messages API. JSON answers are asked for with a forced tool
 * call (`tool_choice: { type: 'tool', name }`) whose `input_schema` is the requested schema, so
 * the answer is the tool call's `input`.
 */
export function anthropicModel(options: AnthropicModelOptions): AnthropicModel {
  if (!options || typeof options !== 'object') throw invalid('options', 'pass { model, apiKey? }');
  const baseURL = checkBaseURL(options.baseURL ?? DEFAULT_ANTHROPIC_BASE_URL, invalid, 'https://api.anthropic.com/v1');
  const model = options.model;
  if (typeof model !== 'string' || model.trim() === '') {
    throw invalid('model', 'must be a non-empty model name, e.g. "claude-3-5-haiku-latest" (ENGRAM_MODEL for the CLI and MCP server)');
  }
  const apiKey = options.apiKey?.trim() || environmentApiKey();
  if (apiKey === undefined) {
    throw invalid(
      'apiKey',
      'Anthropic needs an API key: pass the apiKey option or set ANTHROPIC_API_KEY (ENGRAM_MODEL_KEY for the CLI and MCP server).',
    );
  }
  checkCommonOptions(options, invalid);
  if (options.temperature !== undefined && !(options.temperature >= 0 && options.temperature <= 1)) {
    throw invalid('temperature', `must be between 0 and 1, got ${options.temperature}`);
  }
  const maxOutputTokens = options.maxOutputTokens ?? 4096;
  const temperature = options.temperature ?? 0;
  const maxRetries = options.maxRetries ?? 3;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  const url = `${baseURL}/messages`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    'x-api-key': apiKey,
    'anthropic-version': options.anthropicVersion ?? '2023-06-01',
    ...normaliseHeaders(options.headers),
  };

  const statusError = (status: number, reason: string): Error => {
    if (status === 401 || status === 403) {
      return new ModelError(
        `${url} refused the API key (${reason}). Check the key: set the apiKey option of anthropicModel, ANTHROPIC_API_KEY, ` +
          'or ENGRAM_MODEL_KEY for the CLI and MCP server.',
      );
    }
    if (status === 404) {
      return new ModelError(
        `${url} answered ${reason}. Check the model name ${JSON.stringify(model)} (ENGRAM_MODEL), e.g. "claude-3-5-haiku-latest", ` +
          'and that baseURL (ENGRAM_MODEL_URL) is the API root including the version, e.g. https://api.anthropic.com/v1.',
      );
    }
    return new ModelError(
      `${url} rejected the request for model ${JSON.stringify(model)} (${reason}). Check the model name (ENGRAM_MODEL) and maxOutputTokens.`,
    );
  };

  return {
    specificationVersion: 'v1',
    id: `anthropic:${model}`,
    model,
    baseURL,
    async complete(request): Promise<LanguageModelResponse> {
      if (!request || !Array.isArray(request.messages)) throw invalid('request.messages', 'must be an array of { role, content }');
      const format = typeof request.json === 'object' ? request.json : undefined;
      const tool = format
        ? { name: format.name, description: format.description ?? `Give the answer as ${format.name}.`, input_schema: format.schema }
        : request.json
          ? ANY_JSON_TOOL
          : undefined;
      const limit = request.maxOutputTokens ?? maxOutputTokens;
      const body = {
        model,
        max_tokens: limit,
        temperature: request.temperature ?? temperature,
        ...(request.system ? { system: request.system } : {}),
        messages: request.messages.map(({ role, content }) => ({ role, content })),
        ...(tool ? { tools: [tool], tool_choice: { type: 'tool', name: tool.name } } : {}),
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
      const payload = parseBody(url, answer.body, "Anthropic's Messages API");
      const content = payload.content;
      if (!Array.isArray(content)) {
        throw new ModelError(`${url} returned no content array (got ${serverMessage(answer.body)}). Is baseURL Anthropic's API root?`);
      }
      if (payload.stop_reason === 'max_tokens') {
        throw new ModelError(`${model}'s answer was cut off at ${limit} tokens: raise maxOutputTokens.`);
      }
      let text: string;
      if (tool) {
        const call = content.find((block: { type?: unknown; name?: unknown }) => block?.type === 'tool_use' && block.name === tool.name) as
          | { input?: unknown }
          | undefined;
        if (!call || typeof call.input !== 'object' || call.input === null) {
          throw new ModelError(`${model} did not call the ${tool.name} tool (stop_reason: ${String(payload.stop_reason)}).`);
        }
        text = JSON.stringify(call.input);
      } else {
        text = content
          .filter((block: { type?: unknown; text?: unknown }) => block?.type === 'text' && typeof block.text === 'string')
          .map((block: { text: string }) => block.text)
          .join('');
      }
      const usage = payload.usage as { input_tokens?: unknown; output_tokens?: unknown } | undefined;
      return {
        text,
        ...(usage && typeof usage.input_tokens === 'number' && typeof usage.output_tokens === 'number'
          ? { usage: { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens } }
          : {}),
      };
    },
  };
}

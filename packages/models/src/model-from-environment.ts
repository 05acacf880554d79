import type { LanguageModel } from '@engram/core';
import { ValidationError } from '@engram/core';
import { anthropicModel } from './anthropic-model.js';
import { openaiCompatibleModel } from './openai-compatible-model.js';

export const OLLAMA_BASE_URL = 'http://localhost:11434/v1';

const PROVIDERS = ['openai', 'openai-compatible', 'anthropic', 'ollama'] as const;
type Provider = (typeof PROVIDERS)[number];

/**
 * The model the CLI and the MCP server use, from the environment; undefined when ENGRAM_MODEL is
 * not set (inference is then off and harvesting uses heuristics).
 *
 * - `ENGRAM_MODEL`: `[provider:]model`. Providers: `openai` (default), `openai-compatible`,
 *   `anthropic`, `ollama` (an OpenAI-compatible server at http://localhost:11434/v1). Without a
 *   provider, a name starting with `claude` means Anthropic. Examples: `openai:gpt-4o-mini`,
 *   `anthropic:claude-3-5-haiku-latest`, `ollama:qwen2.5:7b`.
 * - `ENGRAM_MODEL_URL`: the API root (`baseURL`), e.g. http://localhost:8000/v1 for vLLM.
 * - `ENGRAM_MODEL_KEY`: the API key. Default: OPENAI_API_KEY or ANTHROPIC_API_KEY.
 */
export function modelFromEnvironment(environment: Record<string, string | undefined> = process.env): LanguageModel | undefined {
  const setting = environment.ENGRAM_MODEL?.trim();
  if (!setting) return undefined;
  const separator = setting.indexOf(':');
  const prefix = separator > 0 ? setting.slice(0, separator).toLowerCase() : '';
  const known = (PROVIDERS as readonly string[]).includes(prefix);
  const model = known ? setting.slice(separator + 1).trim() : setting;
  const provider: Provider = known ? (prefix as Provider) : /^claude/i.test(model) ? 'anthropic' : 'openai';
  if (!model) {
    throw new ValidationError([
      { field: 'ENGRAM_MODEL', message: `names no model after "${prefix}:": use e.g. ENGRAM_MODEL=openai:gpt-4o-mini` },
    ]);
  }
  const baseURL = environment.ENGRAM_MODEL_URL?.trim() || undefined;
  const apiKey = environment.ENGRAM_MODEL_KEY?.trim() || undefined;
  try {
    if (provider === 'anthropic') {
      const key = apiKey ?? (environment.ANTHROPIC_API_KEY?.trim() || undefined);
      if (key === undefined) {
        throw new ValidationError([
          { field: 'ENGRAM_MODEL_KEY', message: `is not set, and ${setting} needs an Anthropic API key (or set ANTHROPIC_API_KEY)` },
        ]);
      }
      return anthropicModel({ model, apiKey: key, ...(baseURL ? { baseURL } : {}) });
    }
    const key = apiKey ?? (environment.OPENAI_API_KEY?.trim() || undefined);
    const url = baseURL ?? (provider === 'ollama' ? OLLAMA_BASE_URL : undefined);
    if (url === undefined && key === undefined) {
      throw new ValidationError([
        {
          field: 'ENGRAM_MODEL_KEY',
          message: `is not set, and ${setting} on api.openai.com needs a key (or set OPENAI_API_KEY); for a local server set ENGRAM_MODEL_URL, e.g. ${OLLAMA_BASE_URL}`,
        },
      ]);
    }
    return openaiCompatibleModel({ model, ...(url ? { baseURL: url } : {}), ...(key ? { apiKey: key } : {}) });
  } catch (error) {
    if (ValidationError.isInstance(error) && error.field === 'baseURL') {
      throw new ValidationError([{ field: 'ENGRAM_MODEL_URL', message: error.issues[0]?.message ?? 'is not a URL' }]);
    }
    throw error;
  }
}
